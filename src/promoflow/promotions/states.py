"""The promotion state machine: which transitions the lifecycle may take."""

from __future__ import annotations

from enum import StrEnum

from promoflow.kit.errors import Conflict


class PromotionState(StrEnum):
    """Where a promotion is in its lifecycle (DESIGN.md, "Lifecycle"): the one definition."""

    DRAFT = "draft"
    SUBMITTED = "submitted"
    VALIDATED = "validated"
    ASSESSED = "assessed"
    IN_APPROVAL = "in_approval"
    APPROVED = "approved"
    SCHEDULED = "scheduled"
    PUBLISHING = "publishing"
    LIVE = "live"
    ENDED = "ended"
    ANALYSED = "analysed"
    CLOSED = "closed"
    ON_HOLD = "on_hold"
    REJECTED = "rejected"
    CANCELLED = "cancelled"


S = PromotionState

# Every state, in the order the API documents its `status` filter (and always has).
STATES: tuple[PromotionState, ...] = (
    S.DRAFT,
    S.SUBMITTED,
    S.VALIDATED,
    S.ASSESSED,
    S.IN_APPROVAL,
    S.APPROVED,
    S.SCHEDULED,
    S.PUBLISHING,
    S.LIVE,
    S.ENDED,
    S.ANALYSED,
    S.CLOSED,
    S.REJECTED,
    S.CANCELLED,
    S.ON_HOLD,
)
# Nothing happens to a promotion in these any more (a rejected one may be resubmitted).
TERMINAL_STATES: tuple[PromotionState, ...] = (S.CLOSED, S.REJECTED, S.CANCELLED)
# Waiting at its launch gates: stock, supplier and readiness news may clear them.
GATED_STATES: tuple[PromotionState, ...] = (S.SCHEDULED, S.ON_HOLD)
_SIDE_EXITS = {S.REJECTED, S.CANCELLED, S.ON_HOLD}

ALLOWED: dict[str, set[str]] = {
    S.DRAFT: {S.SUBMITTED, S.CANCELLED},
    S.SUBMITTED: {S.VALIDATED} | _SIDE_EXITS,
    S.VALIDATED: {S.ASSESSED} | _SIDE_EXITS,
    S.ASSESSED: {S.IN_APPROVAL} | _SIDE_EXITS,
    S.IN_APPROVAL: {S.APPROVED} | _SIDE_EXITS,
    S.APPROVED: {S.SCHEDULED} | _SIDE_EXITS,
    S.SCHEDULED: {S.PUBLISHING} | _SIDE_EXITS,
    S.PUBLISHING: {S.LIVE} | _SIDE_EXITS,
    S.LIVE: {S.ENDED, S.CANCELLED, S.ON_HOLD},
    S.ENDED: {S.ANALYSED},
    S.ANALYSED: {S.CLOSED},
    # on_hold returns to where the workflow was waiting.
    S.ON_HOLD: {S.SCHEDULED, S.PUBLISHING, S.LIVE, S.IN_APPROVAL, S.CANCELLED, S.REJECTED},
    # A new revision may be submitted as it stands, or opened as a draft to change it.
    S.REJECTED: {S.SUBMITTED, S.DRAFT},
    S.CANCELLED: set(),
    S.CLOSED: set(),
}


def check_transition(current: str, target: str, promotion_code: str) -> None:
    """Raise Conflict when the lifecycle does not allow current -> target."""
    allowed = sorted(str(state) for state in ALLOWED.get(current, set()))
    if target not in ALLOWED.get(current, set()):
        raise Conflict(
            f"promotion {promotion_code}: cannot go from {str(current)!r} to {str(target)!r}; "
            f"allowed next states are {allowed}",
            current=str(current),
            target=str(target),
        )

"""The promotion state machine: which transitions the lifecycle may take."""

from __future__ import annotations

from promoflow.kit.errors import Conflict

_SIDE_EXITS = {"rejected", "cancelled", "on_hold"}

ALLOWED: dict[str, set[str]] = {
    "draft": {"submitted", "cancelled"},
    "submitted": {"validated"} | _SIDE_EXITS,
    "validated": {"assessed"} | _SIDE_EXITS,
    "assessed": {"in_approval"} | _SIDE_EXITS,
    "in_approval": {"approved"} | _SIDE_EXITS,
    "approved": {"scheduled"} | _SIDE_EXITS,
    "scheduled": {"publishing"} | _SIDE_EXITS,
    "publishing": {"live"} | _SIDE_EXITS,
    "live": {"ended", "cancelled", "on_hold"},
    "ended": {"analysed"},
    "analysed": {"closed"},
    # on_hold returns to where the workflow was waiting.
    "on_hold": {"scheduled", "publishing", "live", "in_approval", "cancelled", "rejected"},
    "rejected": {"submitted"},  # a new revision may be submitted
    "cancelled": set(),
    "closed": set(),
}


def check_transition(current: str, target: str, promotion_code: str) -> None:
    """Raise Conflict when the lifecycle does not allow current -> target."""
    if target not in ALLOWED.get(current, set()):
        raise Conflict(
            f"promotion {promotion_code}: cannot go from {current!r} to {target!r}; "
            f"allowed next states are {sorted(ALLOWED.get(current, set()))}",
            current=current,
            target=target,
        )

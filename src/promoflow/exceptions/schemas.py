"""What crosses the exceptions boundary: the case vocabulary and the spec of a new case.

Each enum is the one definition of its words; a member equals its text, so rows,
events and API payloads keep plain strings.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from promoflow.kit.roles import Role


class CaseKind(StrEnum):
    SUPPLIER_SHORTFALL = "supplier_shortfall"
    PRICING_MISMATCH = "pricing_mismatch"
    CHANNEL_PUBLICATION_ERROR = "channel_publication_error"
    STOCKOUT_RISK = "stockout_risk"
    INTEGRATION_FAILURE = "integration_failure"
    APPROVAL_OVERDUE = "approval_overdue"
    SELL_THROUGH_ANOMALY = "sell_through_anomaly"
    # A PO its promotion no longer needs that could not be cancelled on its own:
    # the supplier confirmed it, or the supplier's system refused or cannot cancel.
    PURCHASE_ORDER_CANCELLATION = "purchase_order_cancellation"
    # The launch date came and too few stores confirmed their readiness tasks (signage,
    # shelf labels, display): store operations chase the stores; nothing failed to call.
    STORE_READINESS = "store_readiness"
    # After the event, POS sales, the ERP's stock movements and finance's posting of a
    # promotion disagree: finance chases the posting (nothing is retried automatically).
    RECONCILIATION_MISMATCH = "reconciliation_mismatch"


class Severity(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"


class CaseStatus(StrEnum):
    OPEN = "open"
    RESOLVED = "resolved"


class CaseAction(StrEnum):
    RETRY = "retry"
    WAIVE = "waive"
    REASSIGN = "reassign"
    ESCALATE = "escalate"
    CANCEL_PROMOTION = "cancel_promotion"


# retry, waive and cancel_promotion resolve a case; reassign and escalate keep it open.
RESOLVING_ACTIONS = frozenset({CaseAction.RETRY, CaseAction.WAIVE, CaseAction.CANCEL_PROMOTION})
ACTIONS_NEEDING_REASON = frozenset({CaseAction.WAIVE, CaseAction.CANCEL_PROMOTION})

# The usual offers: a failure someone can retry or accept, and a block only a
# decision about the promotion itself (or another owner) can clear.
EVERY_ACTION: tuple[CaseAction, ...] = tuple(CaseAction)
RETRYABLE_FAILURE_ACTIONS: tuple[CaseAction, ...] = EVERY_ACTION
BLOCK_ACTIONS: tuple[CaseAction, ...] = (
    CaseAction.REASSIGN,
    CaseAction.ESCALATE,
    CaseAction.CANCEL_PROMOTION,
)


@dataclass(frozen=True)
class CaseSpec:
    """A case to open: what went wrong, who owns it and what they may do about it.

    `hold` puts the promotion on hold while the case is open (the workflow's
    transactions read it; the exceptions service itself never changes a state).
    """

    kind: CaseKind
    severity: Severity
    owner_role: Role
    title: str
    detail: str
    allowed_actions: tuple[CaseAction, ...]
    linked: dict[str, Any] = field(default_factory=dict)
    hold: bool = False

"""What crosses the approvals boundary: task statuses, decisions, where a revision stands.

A `TaskStatus` member equals its text, so rows, events and API payloads keep
plain strings.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from promoflow.kit.money import MoneyAmount

if TYPE_CHECKING:
    from promoflow.approvals.models import ApprovalTask


class TaskStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    EXPIRED = "expired"


TASK_STATUSES: tuple[TaskStatus, ...] = tuple(TaskStatus)


class SlaStep(StrEnum):
    """What falls due on a pending task, in order: a reminder, an escalation, expiry."""

    REMIND = "remind"
    ESCALATE = "escalate"
    EXPIRE = "expire"


# What an approver answers; a task records it as approved or rejected.
Decision = Literal["approve", "reject"]
DECISIONS: tuple[Decision, ...] = ("approve", "reject")


@dataclass(frozen=True)
class ApprovalStatus:
    """Where the approvals of one promotion revision stand."""

    tasks: list[ApprovalTask]
    pending: list[ApprovalTask]
    approved: list[ApprovalTask]
    rejected: list[ApprovalTask]
    expired: list[ApprovalTask]
    # True when no task is pending, rejected or expired (also when none was needed).
    all_approved: bool

    @property
    def settled(self) -> bool:
        """True when nobody is left to decide."""
        return not self.pending

    def summary(self) -> dict[str, Any]:
        """Plain data for a workflow checkpoint or an API response."""

        def brief(tasks: list[ApprovalTask]) -> list[dict[str, Any]]:
            return [
                {
                    "task_id": t.id,
                    "role": t.role,
                    "assigned_role": t.assigned_role,
                    "decided_by": t.decided_by,
                    "comment": t.comment,
                }
                for t in tasks
            ]

        return {
            "all_approved": self.all_approved,
            "pending": brief(self.pending),
            "approved": brief(self.approved),
            "rejected": brief(self.rejected),
            "expired": brief(self.expired),
        }


class SlaState(StrEnum):
    """Where a pending task stands against its SLA, as an approver's queue shows it."""

    ON_TIME = "on_time"
    DUE_SOON = "due_soon"  # past the role's reminder point (approval policy)
    OVERDUE = "overdue"  # past due_at


class StockRisk(StrEnum):
    """Will stock cover the forecast's P90 (the inventory coverage gate's test, early)."""

    LOW = "low"  # every forecast item-location covered
    MEDIUM = "medium"  # some not, but as many as the gate requires
    HIGH = "high"  # fewer than the gate requires: it would fail today
    UNKNOWN = "unknown"  # no forecast for the revision yet


@dataclass(frozen=True)
class QueueRules:
    """The settings a queue is judged by: each role's reminder point, the coverage gate's."""

    reminder_at_fraction: dict[str, float]
    min_coverage_ratio: float
    min_share_covered: float
    default_reminder_at_fraction: float = 0.5


class ApprovalQueueItem(BaseModel):
    """A pending task with what its approver needs to decide it, in one row."""

    model_config = ConfigDict(frozen=True)

    id: int
    promotion_id: int
    revision: int
    role: str
    assigned_role: str
    reason: str
    status: str
    sla_hours: float
    due_at: datetime
    reminded_at: datetime | None
    escalated_at: datetime | None
    decided_by: str | None
    decided_at: datetime | None
    comment: str
    created_at: datetime
    promotion_code: str
    promotion_name: str
    mechanic: str
    start_date: date
    end_date: date
    depth: float = Field(description="deepest discount in scope, 0 to 1 (0.25 = 25 % off)")
    forecast_uplift_pct: float | None = Field(
        description="forecast promoted units vs baseline, in %; null before the forecast"
    )
    margin_impact: MoneyAmount = Field(
        description="promotion vs doing nothing, as the approval matrix judged it"
    )
    risk: StockRisk
    stock_covered_share: float | None = Field(
        description="share of forecast item-locations whose stock covers the P90"
    )
    sla_state: SlaState


class ApprovalPreview(BaseModel):
    """What approving one task of a bulk selection would do, before anything is decided."""

    model_config = ConfigDict(frozen=True)

    task_id: int
    # The task with its figures; None when it does not exist or lies outside the banners.
    item: ApprovalQueueItem | None
    # Why the person may not approve it (decide's own words); None when they may.
    refusal: str | None
    # Roles of the revision's other pending tasks: what still waits after this approval.
    still_pending: list[str] = Field(default_factory=list)

    @property
    def unlocks_promotion(self) -> bool:
        """True when this is the revision's last pending approval."""
        return self.refusal is None and not self.still_pending

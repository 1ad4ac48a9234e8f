"""What crosses the approvals boundary: task statuses, decisions, where a revision stands.

A `TaskStatus` member equals its text, so rows, events and API payloads keep
plain strings.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from promoflow.approvals.models import ApprovalTask


class TaskStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    EXPIRED = "expired"


TASK_STATUSES: tuple[TaskStatus, ...] = tuple(TaskStatus)

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

"""The approvals a promotion revision waits for, as transactions (`runtime.run_tx`).

DBOS names a transaction after its function: `open_approvals`, `approval_status`,
`approval_milestone` and `close_revision` moved here from `lifecycle.transactions`
under the names a workflow in flight replays.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from promoflow.approvals import service as approvals_service
from promoflow.approvals.facts import promotion_facts
from promoflow.approvals.matrix import load_approval_policy, required_approvals
from promoflow.approvals.schemas import SlaStep
from promoflow.exceptions import service as exceptions_service
from promoflow.exceptions.schemas import CaseStatus
from promoflow.kit.clock import utcnow
from promoflow.kit.errors import NotFound
from promoflow.kit.roles import Role
from promoflow.lifecycle.case_tx import SYSTEM
from promoflow.lifecycle.schemas import ApprovalRound, ApprovalSpec
from promoflow.promotions import service as promotions_service
from promoflow.promotions.models import Promotion
from promoflow.promotions.states import PromotionState
from promoflow.runtime import get_runtime

PENDING = "pending"
DECIDED = "decided"
WITHDRAWN = "withdrawn"


def open_approvals(session: Session, promotion_id: int) -> list[ApprovalSpec]:
    """Open one task per role the approval matrix requires; they run in parallel."""
    promotion = promotions_service.get_promotion(session, promotion_id)
    policy = load_approval_policy(get_runtime().settings.policy_path("approvals.yaml"))
    required = required_approvals(promotion_facts(session, promotion), policy)
    now = utcnow()
    tasks = approvals_service.open_approval_tasks(
        session, promotion, required, now, seconds_per_business_hour=_seconds_per_hour(promotion)
    )
    promotions_service.transition(
        session,
        promotion,
        PromotionState.IN_APPROVAL,
        "awaiting " + ", ".join(r.role for r in required),
    )
    by_role = {r.role: r for r in required}
    return [
        {
            "task_id": task.id,
            "role": task.role,
            "created": now.timestamp(),
            "remind_after": by_role[task.role].reminder_after_hours,
            "escalate_after": by_role[task.role].sla_hours,
            "expire_after": by_role[task.role].expire_after_hours,
            "escalate_to": by_role[task.role].escalate_to,
            "seconds_per_hour": _seconds_per_hour(promotion),
        }
        for task in tasks
    ]


def _seconds_per_hour(promotion: Promotion) -> float:
    return float(promotion.timing.get("seconds_per_business_hour", 3600.0))


def close_revision(
    session: Session,
    promotion_id: int,
    revision: int,
    target: str,
    reason: str,
    actor: str = SYSTEM,
) -> str:
    """Reject or cancel the revision; nothing it asked of people stays in their queues."""
    now = utcnow()
    approvals_service.withdraw_pending(session, promotion_id, revision, reason, now)
    open_cases = exceptions_service.list_cases(
        session, status=CaseStatus.OPEN, promotion_id=promotion_id
    )
    for case in open_cases:
        exceptions_service.close_case(
            session, case, resolution=WITHDRAWN, actor=actor, reason=reason, now=now
        )
    promotion = promotions_service.get_promotion(session, promotion_id)
    promotions_service.transition(session, promotion, target, reason, actor)
    return str(target)


def approval_status(session: Session, promotion_id: int, revision: int) -> ApprovalRound:
    """Where the approvals stand, read fresh after every wake-up."""
    status = approvals_service.approval_status(session, promotion_id, revision)
    return {
        "all_approved": status.all_approved,
        "rejected": [f"{t.role} ({t.decided_by}): {t.comment}" for t in status.rejected],
        "expired": [t.role for t in status.expired],
        "pending": [
            {
                "task_id": t.id,
                "reminded": t.reminded_at is not None,
                "escalated": t.escalated_at is not None,
            }
            for t in status.pending
        ],
    }


def approval_milestone(session: Session, task_id: int, action: str, escalate_to: str | None) -> str:
    """Remind, escalate or expire a task whose SLA milestone has passed (no-op once decided)."""
    # Locked first: an approver deciding at this instant either commits before (and
    # the milestone is a no-op) or waits for this transaction and then sees it.
    try:
        task = approvals_service.get_task(session, task_id, for_update=True)
    except NotFound:
        return DECIDED
    if task.status != PENDING:
        return DECIDED
    now = utcnow()
    if action == SlaStep.REMIND:
        approvals_service.remind(session, task, now)
    elif action == SlaStep.ESCALATE:
        approvals_service.escalate(session, task, escalate_to or Role.OPERATIONS_ADMIN, now)
    else:
        approvals_service.expire(session, task, now)
    return action

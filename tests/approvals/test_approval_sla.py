"""The SLA walk of an approval task: reminder, escalation (with its case), expiry."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from promoflow.approvals import service
from promoflow.approvals.matrix import RequiredApproval
from promoflow.approvals.models import ApprovalTask
from promoflow.events.models import Event
from promoflow.exceptions import service as exceptions_service
from promoflow.kit.errors import Conflict, Forbidden, InvalidInput
from promoflow.promotions.models import Promotion

PromotionFactory = Callable[..., Promotion]
NOW = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
LATER = NOW + timedelta(hours=9)

PRICING = RequiredApproval(
    role="pricing_analyst",
    reasons=["Every promotion price is checked by pricing"],
    sla_hours=8,
    reminder_after_hours=4,
    escalate_to="operations_admin",
    expire_after_hours=24,
)
FINANCE = RequiredApproval(
    role="finance_approver",
    reasons=["1 item(s) priced below unit cost"],
    sla_hours=24,
    reminder_after_hours=12,
    escalate_to="operations_admin",
    expire_after_hours=48,
)


def events_of(session: Session, promotion: Promotion, type_: str) -> list[Event]:
    return list(
        session.scalars(
            sa.select(Event)
            .where(Event.promotion_id == promotion.id, Event.type == f"io.promoflow.{type_}")
            .order_by(Event.sequence)
        ).all()
    )


@pytest.fixture
def promotion(make_promotion: PromotionFactory) -> Promotion:
    return make_promotion({"CHIPS": "1.20"}, requested_by="mia.merch")


@pytest.fixture
def task(session: Session, promotion: Promotion) -> ApprovalTask:
    [opened] = service.open_approval_tasks(session, promotion, [PRICING], NOW)
    return opened


def test_remind_once(session: Session, promotion: Promotion, task: ApprovalTask) -> None:
    service.remind(session, task, NOW + timedelta(hours=4))
    service.remind(session, task, NOW + timedelta(hours=5))
    assert task.reminded_at == NOW + timedelta(hours=4)
    [reminded] = events_of(session, promotion, "approval.reminded")
    assert reminded.data["assigned_role"] == "pricing_analyst"


def test_milestones_do_nothing_once_decided(
    session: Session, promotion: Promotion, task: ApprovalTask
) -> None:
    service.decide(session, task.id, "pia.pricing", "pricing_analyst", "approve", "", NOW)
    service.remind(session, task, LATER)
    service.escalate(session, task, "operations_admin", LATER)
    service.expire(session, task, LATER)
    assert (task.status, task.reminded_at, task.escalated_at) == ("approved", None, None)
    assert task.assigned_role == "pricing_analyst"
    assert exceptions_service.list_cases(session, promotion_id=promotion.id) == []
    for type_ in ("approval.reminded", "approval.escalated", "approval.expired"):
        assert events_of(session, promotion, type_) == []


def test_escalate_moves_the_task_and_opens_an_overdue_case(
    session: Session, promotion: Promotion, task: ApprovalTask
) -> None:
    service.escalate(session, task, "operations_admin", LATER)
    assert (task.assigned_role, task.escalated_at, task.status) == (
        "operations_admin",
        LATER,
        "pending",
    )
    [case] = exceptions_service.list_cases(session, promotion_id=promotion.id)
    assert (case.kind, case.severity, case.status, case.owner_role) == (
        "approval_overdue",
        "high",
        "open",
        "operations_admin",
    )
    assert case.linked == {"approval_task_id": task.id, "promotion_id": promotion.id, "revision": 1}
    assert case.allowed_actions == ["reassign", "escalate", "cancel_promotion"]
    assert (case.promotion_id, case.revision, case.workflow_id) == (
        promotion.id,
        1,
        promotion.workflow_id,
    )
    assert case.title == f"pricing_analyst approval of {promotion.code} is past its 8 h SLA"
    [escalated] = events_of(session, promotion, "approval.escalated")
    assert escalated.data["case_id"] == case.id
    assert escalated.data["from_role"] == "pricing_analyst"
    assert len(events_of(session, promotion, "exception.opened")) == 1
    # Escalating again (a re-run step) opens no second case.
    service.escalate(session, task, "operations_admin", LATER)
    assert len(exceptions_service.list_cases(session, promotion_id=promotion.id)) == 1


def test_after_escalation_only_the_escalation_role_decides_and_closes_the_case(
    session: Session, promotion: Promotion, task: ApprovalTask
) -> None:
    service.escalate(session, task, "operations_admin", LATER)
    with pytest.raises(Forbidden, match="assigned to operations_admin"):
        service.decide(session, task.id, "pia.pricing", "pricing_analyst", "approve", "", LATER)
    service.decide(session, task.id, "ops.olga", "operations_admin", "approve", "ok", LATER)
    [case] = exceptions_service.list_cases(session, promotion_id=promotion.id)
    assert (case.status, case.resolution, case.resolved_by) == (
        "resolved",
        "approval_decided",
        "ops.olga",
    )


def test_escalate_to_an_unknown_role(session: Session, task: ApprovalTask) -> None:
    with pytest.raises(InvalidInput, match="escalate_to_role='cfo'"):
        service.escalate(session, task, "cfo", LATER)


def test_expire(session: Session, promotion: Promotion, task: ApprovalTask) -> None:
    service.expire(session, task, NOW + timedelta(hours=24))
    assert task.status == "expired"
    [expired] = events_of(session, promotion, "approval.expired")
    assert expired.data["role"] == "pricing_analyst"
    status = service.approval_status(session, promotion.id, 1)
    assert [t.id for t in status.expired] == [task.id]
    assert (status.all_approved, status.settled) == (False, True)
    with pytest.raises(Conflict, match="already expired"):
        service.decide(session, task.id, "pia.pricing", "pricing_analyst", "approve", "", LATER)


def test_withdraw_pending_after_a_rejection(session: Session, promotion: Promotion) -> None:
    opened = service.open_approval_tasks(session, promotion, [PRICING, FINANCE], NOW)
    service.decide(session, opened[1].id, "fin.ola", "finance_approver", "reject", "no", NOW)
    withdrawn = service.withdraw_pending(session, promotion.id, 1, "rejected by finance", LATER)
    assert [(t.role, t.status, t.comment) for t in withdrawn] == [
        ("pricing_analyst", "expired", "rejected by finance"),
    ]
    assert service.pending_tasks_for(session, "pricing_analyst") == []


def test_reassign_task(session: Session, promotion: Promotion, task: ApprovalTask) -> None:
    service.escalate(session, task, "operations_admin", LATER)
    service.reassign_task(session, task.id, "category_manager", "ops.olga", LATER)
    assert task.assigned_role == "category_manager"
    [event] = events_of(session, promotion, "approval.reassigned")
    assert (event.actor, event.data["from_role"]) == ("ops.olga", "operations_admin")
    service.decide(session, task.id, "cat.carl", "category_manager", "approve", "", LATER)
    with pytest.raises(Conflict, match="is approved"):
        service.reassign_task(session, task.id, "pricing_analyst", "ops.olga", LATER)

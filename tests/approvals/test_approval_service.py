"""Approval tasks: opening, deciding with segregation of duties, and status."""

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
from promoflow.kit.errors import Conflict, Forbidden, InvalidInput, NotFound
from promoflow.promotions.models import Promotion

PromotionFactory = Callable[..., Promotion]
NOW = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)

PRICING = RequiredApproval(
    role="pricing_analyst",
    reasons=["Every promotion price is checked by pricing"],
    sla_hours=8,
    reminder_after_hours=4,
    escalate_to="operations_admin",
    expire_after_hours=24,
    rules=["promo_price_check"],
    policy_version="t-1",
)
FINANCE = RequiredApproval(
    role="finance_approver",
    reasons=["Margin impact -8,000.00 is below -5,000.00", "1 item(s) priced below unit cost"],
    sla_hours=24,
    reminder_after_hours=12,
    escalate_to="operations_admin",
    expire_after_hours=48,
    rules=["margin_loss", "below_cost"],
    policy_version="t-1",
)


def event_types(session: Session, promotion: Promotion) -> list[str]:
    rows = session.scalars(
        sa.select(Event.type).where(Event.promotion_id == promotion.id).order_by(Event.sequence)
    ).all()
    return [row.removeprefix("io.promoflow.") for row in rows]


@pytest.fixture
def promotion(make_promotion: PromotionFactory) -> Promotion:
    return make_promotion({"COLA": "1.50", "CHIPS": "1.20"}, requested_by="mia.merch")


@pytest.fixture
def tasks(session: Session, promotion: Promotion) -> dict[str, ApprovalTask]:
    opened = service.open_approval_tasks(
        session, promotion, [PRICING, FINANCE], NOW, seconds_per_business_hour=0.05
    )
    return {task.role: task for task in opened}


def test_one_pending_task_per_role_with_compressed_due_time(
    session: Session, promotion: Promotion, tasks: dict[str, ApprovalTask]
) -> None:
    pricing, finance = tasks["pricing_analyst"], tasks["finance_approver"]
    assert (pricing.status, pricing.assigned_role, pricing.revision) == (
        "pending",
        "pricing_analyst",
        1,
    )
    assert pricing.sla_hours == 8  # stored in business hours, as given
    assert pricing.due_at == NOW + timedelta(seconds=0.4)  # 8 h x 0.05 s
    assert finance.due_at == NOW + timedelta(seconds=1.2)
    assert finance.reason == (
        "Margin impact -8,000.00 is below -5,000.00; 1 item(s) priced below unit cost"
    )
    assert event_types(session, promotion) == ["approval.requested", "approval.requested"]
    requested = session.scalars(sa.select(Event).where(Event.promotion_id == promotion.id)).all()
    assert {e.data["role"] for e in requested} == {"pricing_analyst", "finance_approver"}
    assert requested[0].data["policy_version"] == "t-1"


def test_production_default_is_an_hour_per_business_hour(
    session: Session, promotion: Promotion
) -> None:
    [task] = service.open_approval_tasks(session, promotion, [PRICING], NOW)
    assert task.due_at == NOW + timedelta(hours=8)


def test_reopening_keeps_the_tasks_already_open(
    session: Session, promotion: Promotion, tasks: dict[str, ApprovalTask]
) -> None:
    again = service.open_approval_tasks(
        session, promotion, [PRICING, FINANCE], NOW, seconds_per_business_hour=0.05
    )
    assert [t.id for t in again] == [tasks["pricing_analyst"].id, tasks["finance_approver"].id]
    assert event_types(session, promotion).count("approval.requested") == 2


def test_approve(session: Session, promotion: Promotion, tasks: dict[str, ApprovalTask]) -> None:
    task = service.decide(
        session,
        tasks["pricing_analyst"].id,
        "pia.pricing",
        "pricing_analyst",
        "approve",
        "  fine  ",
        NOW,
    )
    assert (task.status, task.decided_by, task.decided_at, task.comment) == (
        "approved",
        "pia.pricing",
        NOW,
        "fine",
    )
    decided = session.scalars(
        sa.select(Event).where(Event.type == "io.promoflow.approval.decided")
    ).one()
    assert decided.actor == "pia.pricing"
    assert decided.data["decision"] == "approved"


def test_reject_with_comment(session: Session, tasks: dict[str, ApprovalTask]) -> None:
    task = service.decide(
        session,
        tasks["finance_approver"].id,
        "fin.ola",
        "finance_approver",
        "reject",
        "needs more vendor funding",
        NOW,
    )
    assert (task.status, task.comment) == ("rejected", "needs more vendor funding")


@pytest.mark.parametrize("comment", ["", "   "])
def test_reject_needs_a_comment(
    session: Session, tasks: dict[str, ApprovalTask], comment: str
) -> None:
    with pytest.raises(InvalidInput) as caught:
        service.decide(
            session,
            tasks["finance_approver"].id,
            "fin.ola",
            "finance_approver",
            "reject",
            comment,
            NOW,
        )
    assert caught.value.field == "comment"
    assert tasks["finance_approver"].status == "pending"


def test_unknown_task(session: Session, tasks: dict[str, ApprovalTask]) -> None:
    with pytest.raises(NotFound, match="approval task 999999 does not exist"):
        service.decide(session, 999_999, "pia.pricing", "pricing_analyst", "approve", "", NOW)


def test_task_already_decided(session: Session, tasks: dict[str, ApprovalTask]) -> None:
    task_id = tasks["pricing_analyst"].id
    service.decide(session, task_id, "pia.pricing", "pricing_analyst", "approve", "", NOW)
    with pytest.raises(Conflict, match=r"already approved by pia\.pricing"):
        service.decide(session, task_id, "pia.pricing", "pricing_analyst", "approve", "", NOW)


def test_wrong_role(session: Session, tasks: dict[str, ApprovalTask]) -> None:
    with pytest.raises(Forbidden) as caught:
        service.decide(
            session,
            tasks["finance_approver"].id,
            "pia.pricing",
            "pricing_analyst",
            "approve",
            "",
            NOW,
        )
    assert "assigned to finance_approver" in caught.value.message
    assert "role pricing_analyst may not decide it" in caught.value.message


def test_requester_may_not_approve_own_promotion(
    session: Session, promotion: Promotion, tasks: dict[str, ApprovalTask]
) -> None:
    with pytest.raises(Forbidden) as caught:
        service.decide(
            session, tasks["pricing_analyst"].id, "mia.merch", "pricing_analyst", "approve", "", NOW
        )
    assert caught.value.message == (
        f"requester mia.merch may not approve their own promotion {promotion.code}"
    )
    assert tasks["pricing_analyst"].status == "pending"


@pytest.mark.parametrize(
    "spelling",
    ["Mia.Merch", "MIA.MERCH", " mia.merch ", "\uff4d\uff49\uff41.\uff4d\uff45\uff52\uff43\uff48"],
    ids=["capitalised", "upper", "padded", "full-width"],
)
def test_requester_in_another_spelling_may_not_approve_own_promotion(
    session: Session, promotion: Promotion, tasks: dict[str, ApprovalTask], spelling: str
) -> None:
    with pytest.raises(Forbidden) as caught:
        service.decide(
            session, tasks["pricing_analyst"].id, spelling, "pricing_analyst", "approve", "", NOW
        )
    assert f"may not approve their own promotion {promotion.code}" in caught.value.message
    assert "(recorded as mia.merch)" in caught.value.message
    assert tasks["pricing_analyst"].status == "pending"
    assert "approval.decided" not in event_types(session, promotion)


def test_one_person_in_two_spellings_may_not_fill_two_roles(
    session: Session, tasks: dict[str, ApprovalTask]
) -> None:
    service.decide(
        session, tasks["pricing_analyst"].id, "sam.both", "pricing_analyst", "approve", "", NOW
    )
    with pytest.raises(Forbidden) as caught:
        service.decide(
            session,
            tasks["finance_approver"].id,
            "Sam.Both",
            "finance_approver",
            "approve",
            "",
            NOW,
        )
    assert "already decided the pricing_analyst approval" in caught.value.message
    assert "(recorded as sam.both)" in caught.value.message
    assert tasks["finance_approver"].status == "pending"
    # The display name is kept as given: the first decision still reads sam.both.
    assert tasks["pricing_analyst"].decided_by == "sam.both"


def test_one_person_may_not_fill_two_roles(
    session: Session, tasks: dict[str, ApprovalTask]
) -> None:
    service.decide(
        session, tasks["pricing_analyst"].id, "sam.both", "pricing_analyst", "approve", "", NOW
    )
    with pytest.raises(Forbidden) as caught:
        service.decide(
            session,
            tasks["finance_approver"].id,
            "sam.both",
            "finance_approver",
            "approve",
            "",
            NOW,
        )
    assert "sam.both already decided the pricing_analyst approval" in caught.value.message
    assert tasks["finance_approver"].status == "pending"


def test_two_roles_across_revisions_is_refused_same_role_is_not(
    session: Session, promotion: Promotion, tasks: dict[str, ApprovalTask]
) -> None:
    service.decide(
        session, tasks["pricing_analyst"].id, "sam.both", "pricing_analyst", "approve", "", NOW
    )
    service.decide(
        session,
        tasks["finance_approver"].id,
        "fin.ola",
        "finance_approver",
        "reject",
        "too deep",
        NOW,
    )
    promotion.revision = 2
    rev2 = {
        t.role: t for t in service.open_approval_tasks(session, promotion, [PRICING, FINANCE], NOW)
    }
    assert rev2["pricing_analyst"].id != tasks["pricing_analyst"].id
    with pytest.raises(Forbidden, match="one person may not fill two roles"):
        service.decide(
            session, rev2["finance_approver"].id, "sam.both", "finance_approver", "approve", "", NOW
        )
    again = service.decide(
        session, rev2["pricing_analyst"].id, "sam.both", "pricing_analyst", "approve", "", NOW
    )
    assert again.status == "approved"


def test_approval_status(
    session: Session, promotion: Promotion, tasks: dict[str, ApprovalTask]
) -> None:
    status = service.approval_status(session, promotion.id, 1)
    assert (status.all_approved, status.settled, len(status.pending)) == (False, False, 2)
    service.decide(
        session, tasks["pricing_analyst"].id, "pia.pricing", "pricing_analyst", "approve", "", NOW
    )
    status = service.approval_status(session, promotion.id, 1)
    assert [t.role for t in status.approved] == ["pricing_analyst"]
    assert [t.role for t in status.pending] == ["finance_approver"]
    assert not status.all_approved
    service.decide(
        session, tasks["finance_approver"].id, "fin.ola", "finance_approver", "approve", "", NOW
    )
    status = service.approval_status(session, promotion.id, 1)
    assert (status.all_approved, status.settled) == (True, True)
    assert status.summary()["approved"][1]["decided_by"] == "fin.ola"
    assert service.approval_status(session, promotion.id, 2).tasks == []


def test_a_rejection_is_not_all_approved(
    session: Session, promotion: Promotion, tasks: dict[str, ApprovalTask]
) -> None:
    service.decide(
        session, tasks["pricing_analyst"].id, "pia.pricing", "pricing_analyst", "approve", "", NOW
    )
    service.decide(
        session,
        tasks["finance_approver"].id,
        "fin.ola",
        "finance_approver",
        "reject",
        "margin too thin",
        NOW,
    )
    status = service.approval_status(session, promotion.id, 1)
    assert not status.all_approved
    assert [t.comment for t in status.rejected] == ["margin too thin"]


def test_pending_tasks_for_a_role_soonest_first(
    session: Session, make_promotion: PromotionFactory, tasks: dict[str, ApprovalTask]
) -> None:
    other = make_promotion({"WIPES": "3.00"})
    [sooner] = service.open_approval_tasks(
        session, other, [FINANCE], NOW - timedelta(hours=1), seconds_per_business_hour=0.05
    )
    finance = service.pending_tasks_for(session, "finance_approver")
    assert [t.id for t in finance] == [sooner.id, tasks["finance_approver"].id]
    assert len(service.pending_tasks_for(session)) == 3
    with pytest.raises(InvalidInput, match="role='cfo'"):
        service.pending_tasks_for(session, "cfo")


def test_events_roll_back_with_the_tasks(session: Session, promotion: Promotion) -> None:
    savepoint = session.begin_nested()
    service.open_approval_tasks(session, promotion, [PRICING], NOW)
    assert event_types(session, promotion) == ["approval.requested"]
    savepoint.rollback()
    assert event_types(session, promotion) == []
    assert service.approval_status(session, promotion.id, 1).tasks == []

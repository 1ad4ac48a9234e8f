"""Asking before deciding: why a person may not decide a task, and what a bulk approval
would do, in `decide`'s own words and without deciding anything."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from sqlalchemy.orm import Session

from promoflow.approvals import queue, service
from promoflow.approvals.matrix import RequiredApproval
from promoflow.approvals.models import ApprovalTask
from promoflow.approvals.schemas import QueueRules
from promoflow.kit.errors import Forbidden
from promoflow.promotions.models import Promotion

PromotionFactory = Callable[..., Promotion]
NOW = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
RULES = QueueRules({}, min_coverage_ratio=1.0, min_share_covered=0.95)


def _need(role: str) -> RequiredApproval:
    return RequiredApproval(
        role=role, reasons=[f"{role} checks it"], sla_hours=8, reminder_after_hours=4,
        escalate_to="operations_admin", expire_after_hours=24,
    )  # fmt: skip


@pytest.fixture
def tasks(session: Session, make_promotion: PromotionFactory) -> dict[str, ApprovalTask]:
    """Pricing and finance on Mia's promotion; finance on Fay's own one."""
    mias = make_promotion({"COLA": "1.50"}, requested_by="mia.merch")
    fays = make_promotion({"CHIPS": "1.20"}, requested_by="fay.finance")
    pricing, finance = service.open_approval_tasks(
        session, mias, [_need("pricing_analyst"), _need("finance_approver")], NOW
    )
    (own,) = service.open_approval_tasks(session, fays, [_need("finance_approver")], NOW)
    return {"pricing": pricing, "finance": finance, "own": own}


def test_the_refusal_is_what_decide_would_raise(
    session: Session, tasks: dict[str, ApprovalTask]
) -> None:
    finance, own = tasks["finance"], tasks["own"]
    assert service.decision_refusal(session, finance.id, "fay.finance", "finance_approver") is None
    refusal = service.decision_refusal(session, own.id, "fay.finance", "finance_approver")
    with pytest.raises(Forbidden) as raised:
        service.decide(session, own.id, "fay.finance", "finance_approver", "approve", "", NOW)
    assert refusal == raised.value.message
    assert "may not approve their own promotion" in (refusal or "")
    assert "assigned to finance_approver" in (
        service.decision_refusal(session, finance.id, "pat", "pricing_analyst") or ""
    )
    assert "does not exist" in (
        service.decision_refusal(session, 10**9, "fay", "finance_approver") or ""
    )
    service.decide(session, finance.id, "fay.finance", "finance_approver", "approve", "", NOW)
    assert "already approved by fay.finance" in (
        service.decision_refusal(session, finance.id, "fay.finance", "finance_approver") or ""
    )


def test_a_preview_says_what_each_approval_unlocks_and_decides_nothing(
    session: Session, tasks: dict[str, ApprovalTask]
) -> None:
    asked = [tasks["finance"].id, tasks["own"].id, tasks["pricing"].id, tasks["finance"].id]
    previews = queue.preview_approvals(
        session, asked, "fay.finance", "finance_approver", now=NOW, rules=RULES, currency="EUR"
    )
    assert [p.task_id for p in previews] == asked[:3]  # each once, in the order asked
    finance, own, pricing = previews
    assert (finance.refusal, finance.still_pending) == (None, ["pricing_analyst"])
    assert finance.item is not None and finance.item.promotion_id == tasks["finance"].promotion_id
    assert not finance.unlocks_promotion
    assert own.refusal and "their own promotion" in own.refusal
    assert own.still_pending == [] and not own.unlocks_promotion  # refused: unlocks nothing
    assert pricing.refusal and "assigned to pricing_analyst" in pricing.refusal
    assert {task.status for task in tasks.values()} == {"pending"}

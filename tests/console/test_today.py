"""The Today page: my decisions by due time, what is at risk, off pace, and the money at stake."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from console_support import ALPHA, NOW, TODAY, World
from sqlalchemy.orm import Session

from promoflow.console.schemas import DecisionKind, RiskReason
from promoflow.console.service import today
from promoflow.events.service import record_event
from promoflow.gates.schemas import Gate
from promoflow.identity.schemas import EVERY_BANNER
from promoflow.kit.errors import InvalidInput
from promoflow.kit.roles import Role
from promoflow.promotions.states import PromotionState


def test_decisions_list_my_approvals_and_cases_by_due_time_with_clock_and_context(
    session: Session, world: World
) -> None:
    deep = world.promotion({"COLA": "1.20"}, name="Deep cola")
    world.forecast(deep, "COLA", "A-N1", baseline=100, promoted=150)
    world.stock("COLA", "A-N1", 1000)
    later = world.task(deep, Role.FINANCE_APPROVER, due_in=timedelta(hours=5))
    world.task(deep, Role.CATEGORY_MANAGER, due_in=timedelta(hours=1))  # not my role
    overdue_case = world.case(deep, Role.FINANCE_APPROVER, NOW - timedelta(hours=30))
    world.case(None, Role.FINANCE_APPROVER, NOW - timedelta(hours=2), "a retailer-wide case")

    view = today(session, EVERY_BANNER, Role.FINANCE_APPROVER, NOW)

    assert [(d.kind, d.id) for d in view.decisions[:2]] == [
        (DecisionKind.CASE, overdue_case.id),  # opened 30 h ago: 6 h past its 24 h
        (DecisionKind.APPROVAL, later.id),
    ]
    case, task, general = view.decisions
    assert case.sla.overdue and case.sla.overdue_seconds == 6 * 3600
    assert not task.sla.overdue and task.sla.remaining_seconds == 5 * 3600
    assert task.context is not None and case.context is not None
    assert task.context.code == deep.code and task.context.mechanic == "fixed_price"
    assert task.context.state == case.context.state == PromotionState.SCHEDULED
    assert task.context.depth == pytest.approx(0.4)  # 1.20 against 2.00
    assert task.context.forecast_uplift_pct == pytest.approx(50.0)
    # (1.20 - 1.00) x 150 - (2.00 - 1.00) x 100
    assert task.context.margin_impact == Decimal("-70.00")
    assert task.context.risk == "low"  # 1000 on hand covers the P90 of 180
    assert case.context.margin_impact == Decimal("-70.00") and case.context.risk == "low"
    assert general.context is None and general.title == "a retailer-wide case"


def test_a_case_of_no_promotion_is_only_for_a_scope_of_every_banner(
    session: Session, world: World
) -> None:
    world.case(None, Role.FINANCE_APPROVER, NOW, "a retailer-wide case")
    assert today(session, ALPHA, Role.FINANCE_APPROVER, NOW).decisions == []


def test_at_risk_this_week_names_failing_gates_stockout_and_late_orders(
    session: Session, world: World
) -> None:
    failing = world.promotion({"COLA": "1.50"}, name="Blocked")
    world.gate_round(failing, {Gate.STORE_READINESS: 0.5})
    stockout = world.promotion({"COLA": "1.50"}, name="Short", status=PromotionState.LIVE)
    world.gate_round(stockout, {Gate.STOCKOUT_RISK: 0.12})
    late = world.promotion({"CHIPS": "2.00"}, name="Late PO")
    world.gate_round(late)
    world.purchase_order(late, "PO-LATE", ack_due=NOW - timedelta(hours=2))
    world.purchase_order(late, "PO-FINE", ack_due=NOW + timedelta(hours=2))
    cleared = world.promotion({"CHIPS": "2.00"}, name="Cleared")
    world.gate_round(cleared, {Gate.STORE_READINESS: 0.5})
    world.gate_round(cleared)  # the block cleared in the next round
    far = world.promotion({"COLA": "1.50"}, start=TODAY + timedelta(days=20))
    world.gate_round(far, {Gate.STORE_READINESS: 0.5})  # not launching this week

    risks = {
        r.promotion.code: r
        for r in today(session, EVERY_BANNER, Role.OPERATIONS_ADMIN, NOW).at_risk
    }

    assert set(risks) == {failing.code, stockout.code, late.code}
    assert risks[failing.code].reasons == [RiskReason.FAILING_GATES]
    assert risks[failing.code].failing_gates == [Gate.STORE_READINESS]
    assert risks[stockout.code].reasons == [RiskReason.FAILING_GATES, RiskReason.STOCKOUT_RISK]
    assert risks[stockout.code].stockout_share == pytest.approx(0.12)
    assert risks[stockout.code].stockout_threshold == pytest.approx(0.05)
    assert risks[late.code].reasons == [RiskReason.LATE_SUPPLIER_ACK]
    assert risks[late.code].late_purchase_orders == ["PO-LATE"]


def test_a_live_promotion_selling_outside_its_interval_is_off_pace(
    session: Session, world: World
) -> None:
    def live(name: str, sold: float) -> str:
        promotion = world.promotion(
            {"COLA": "1.50"}, start=TODAY - timedelta(days=3), status=PromotionState.LIVE, name=name
        )
        world.forecast(promotion, "COLA", "A-N1", baseline=50, promoted=100)  # P10 80, P90 120
        record_event(
            session,
            "sell_through.checked",
            f"promotion/{promotion.id}",
            {"elapsed_days": 3, "window_days": 6, "units_sold": sold},
            promotion_id=promotion.id,
        )
        return promotion.code

    slow, on_pace, fast = live("Slow", 30.0), live("On pace", 50.0), live("Fast", 70.0)

    found = {
        o.promotion.code: o
        for o in today(session, EVERY_BANNER, Role.OPERATIONS_ADMIN, NOW).off_pace
    }

    assert set(found) == {slow, fast} and on_pace not in found
    assert found[slow].direction == "below" and found[fast].direction == "above"
    assert (found[slow].expected_low, found[slow].expected_high) == (40.0, 60.0)
    assert found[slow].elapsed_share == 0.5


def test_money_at_stake_adds_up_the_next_fortnight_and_its_risky_part(
    session: Session, world: World
) -> None:
    safe = world.promotion({"COLA": "1.50"})
    world.forecast(safe, "COLA", "A-N1", baseline=100, promoted=140)
    risky = world.promotion({"CHIPS": "2.00"}, start=TODAY + timedelta(days=10))
    world.forecast(risky, "CHIPS", "A-S1", baseline=10, promoted=30)
    world.gate_round(risky, {Gate.STORE_READINESS: 0.5})
    beyond = world.promotion({"COLA": "1.50"}, start=TODAY + timedelta(days=30))
    world.forecast(beyond, "COLA", "A-N1", baseline=100, promoted=900)

    money = today(session, EVERY_BANNER, Role.OPERATIONS_ADMIN, NOW).money

    # safe: 40 extra x 1.50 = 60.00 revenue, x (1.50 - 1.00) = 20.00 margin;
    # risky: 20 extra x 2.00 = 40.00 revenue, x (2.00 - 1.50) = 10.00 margin.
    assert money.promotions == 2 and money.at_risk_promotions == 1
    assert money.incremental_revenue.amount == Decimal("100.00")
    assert money.incremental_margin.amount == Decimal("30.00")
    assert money.at_risk_incremental_revenue.amount == Decimal("40.00")
    assert money.at_risk_incremental_margin.amount == Decimal("10.00")
    assert money.incremental_revenue.currency is None


def test_the_currency_is_the_callers(session: Session, world: World) -> None:
    view = today(session, EVERY_BANNER, Role.OPERATIONS_ADMIN, NOW, currency="EUR")
    assert view.money.incremental_margin.currency == "EUR"


def test_a_naive_now_or_an_unknown_role_is_refused_by_name(session: Session) -> None:
    with pytest.raises(InvalidInput) as naive:
        today(session, EVERY_BANNER, Role.OPERATIONS_ADMIN, NOW.replace(tzinfo=None))
    assert naive.value.field == "now"
    with pytest.raises(InvalidInput) as role:
        today(session, EVERY_BANNER, "chief", NOW)
    assert role.value.field == "role" and role.value.value == "chief"

"""The Today page: what needs my decision, what is at risk, what runs off pace, what is at stake."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy.orm import Session

from promoflow.approvals.queue import queue_page, queue_rules
from promoflow.approvals.schemas import ApprovalQueueItem, QueueRules
from promoflow.console import repository
from promoflow.console.context import cents, contexts, ref_of, sla_clock
from promoflow.console.schemas import (
    AtRisk,
    Decision,
    DecisionKind,
    Money,
    MoneyAtStake,
    OffPace,
    PromotionContext,
    RiskReason,
    TodayView,
)
from promoflow.exceptions.models import ExceptionCase
from promoflow.gates.schemas import Gate, GateStatus
from promoflow.identity.schemas import BannerScope
from promoflow.kit.errors import InvalidInput
from promoflow.kit.roles import ROLES

DECISIONS_SHOWN = 20  # per kind, soonest due: Today is a summary; the inboxes list the rest
AT_RISK_SHOWN = 25  # soonest launch first; the Promotions list (at risk) has the rest
RISK_HORIZON_DAYS = 7
MONEY_HORIZON_DAYS = 14
# How long a case waits before the workflow re-alerts (lifecycle.timing: 24 business hours).
CASE_SLA = timedelta(hours=24)


def check_now(now: datetime) -> None:
    if now.tzinfo is None or now.utcoffset() != timedelta(0):
        raise InvalidInput("now", now.isoformat(), "give an aware UTC datetime")


def today(
    session: Session,
    banners: BannerScope,
    role: str,
    now: datetime,
    *,
    assignee: str | None = None,
    currency: str | None = None,
    rules: QueueRules | None = None,
    case_sla: timedelta = CASE_SLA,
) -> TodayView:
    """The Today page of `role` (and of `assignee`'s cases), within `banners`, at `now`."""
    check_now(now)
    if role not in ROLES:
        raise InvalidInput("role", role, f"unknown role; known: {', '.join(ROLES)}")
    rules = rules or queue_rules(None, None)
    return TodayView(
        role=role,
        now=now,
        decisions=decisions(session, banners, role, now, assignee, rules, case_sla, currency),
        at_risk=at_risk(session, banners, now),
        off_pace=off_pace(session, banners),
        money=money_at_stake(session, banners, now, currency),
    )


def decisions(
    session: Session,
    banners: BannerScope,
    role: str,
    now: datetime,
    assignee: str | None,
    rules: QueueRules,
    case_sla: timedelta,
    currency: str | None = None,
) -> list[Decision]:
    """Open approval tasks for the role and its open cases, soonest due first."""
    # The queue labels its amounts; "XXX" is ISO 4217's "no currency" when none is given.
    tasks, _ = queue_page(
        session,
        role,
        DECISIONS_SHOWN,
        0,
        now=now,
        rules=rules,
        banners=banners,
        currency=currency or "XXX",
    )
    cases = repository.open_cases(session, role, assignee, banners, DECISIONS_SHOWN)
    # The queue carries its tasks' figures; the cases' promotions need theirs read.
    states = repository.states(session, {task.promotion_id for task in tasks})
    context = contexts(
        session, {case.promotion_id for case in cases if case.promotion_id is not None}, rules
    )
    found = [_approval(task, states.get(task.promotion_id, ""), now) for task in tasks]
    found += [_case(case, context, now, case_sla) for case in cases]
    return sorted(found, key=lambda decision: (decision.sla.due_at, decision.kind, decision.id))


def _approval(task: ApprovalQueueItem, state: str, now: datetime) -> Decision:
    # The queue's own figures, so the Today page and the inbox agree to the cent.
    figures = PromotionContext(
        promotion_id=task.promotion_id,
        code=task.promotion_code,
        name=task.promotion_name,
        state=state,
        mechanic=task.mechanic,
        start_date=task.start_date,
        end_date=task.end_date,
        depth=task.depth,
        forecast_uplift_pct=task.forecast_uplift_pct,
        margin_impact=task.margin_impact.amount,
        risk=str(task.risk),
    )
    title = f"{task.role} approval of {task.promotion_code}"
    return Decision(
        kind=DecisionKind.APPROVAL,
        id=task.id,
        title=f"{title}: {task.reason}" if task.reason else title,
        role=task.assigned_role,
        severity=None,
        case_kind=None,
        sla=sla_clock(task.due_at, now),
        context=figures,
    )


def _case(
    case: ExceptionCase, context: dict[int, PromotionContext], now: datetime, sla: timedelta
) -> Decision:
    return Decision(
        kind=DecisionKind.CASE,
        id=case.id,
        title=case.title,
        role=case.owner_role,
        severity=case.severity,
        case_kind=case.kind,
        sla=sla_clock(case.opened_at + sla, now),
        context=context.get(case.promotion_id) if case.promotion_id is not None else None,
    )


def at_risk(session: Session, banners: BannerScope, now: datetime) -> list[AtRisk]:
    """Live promotions and those launching within the week with something against them."""
    start = now.date()
    found = repository.at_risk_this_week(
        session, banners, start, start + timedelta(days=RISK_HORIZON_DAYS), now, AT_RISK_SHOWN
    )
    ids = [promotion.id for promotion in found]
    gates: dict[int, list[tuple[str, str, bool, float | None, float | None]]] = {}
    for pid, gate, status, blocking, score, threshold in repository.newest_gate_results(
        session, ids
    ):
        gates.setdefault(pid, []).append((gate, status, blocking, score, threshold))
    late: dict[int, list[str]] = {}
    for pid, number in repository.late_purchase_orders(session, ids, now):
        late.setdefault(pid, []).append(number)
    rows = []
    for promotion in found:
        results = gates.get(promotion.id, [])
        failing = [
            g for g, status, blocking, _, _ in results if blocking and status == GateStatus.FAIL
        ]
        stockout = next((r for r in results if r[0] == Gate.STOCKOUT_RISK), None)
        share, limit = (stockout[3], stockout[4]) if stockout else (None, None)
        reasons = [RiskReason.FAILING_GATES] if failing else []
        if share is not None and limit is not None and share > limit:
            reasons.append(RiskReason.STOCKOUT_RISK)
        if late.get(promotion.id):
            reasons.append(RiskReason.LATE_SUPPLIER_ACK)
        rows.append(
            AtRisk(
                promotion=ref_of(promotion),
                reasons=reasons,
                failing_gates=failing,
                stockout_share=share,
                stockout_threshold=limit,
                late_purchase_orders=late.get(promotion.id, []),
            )
        )
    return rows


def off_pace(session: Session, banners: BannerScope) -> list[OffPace]:
    """Live promotions whose newest sell-through check sold outside P10-P90 so far."""
    checks = repository.live_sell_through_checks(session, banners)
    totals = {
        int(row[0]): row for row in repository.forecast_money_of(session, [p.id for p, _ in checks])
    }
    found = []
    for promotion, event in checks:
        window = int(event.data.get("window_days") or 0)
        row = totals.get(promotion.id)
        if window <= 0 or row is None:
            continue
        share = int(event.data.get("elapsed_days") or 0) / window
        sold = float(event.data.get("units_sold") or 0.0)
        low, expected, high = (float(row[i] or 0) * share for i in (3, 2, 4))
        if low <= sold <= high:
            continue
        found.append(
            OffPace(
                promotion=ref_of(promotion),
                direction="above" if sold > high else "below",
                elapsed_share=round(share, 4),
                units_sold=sold,
                expected_low=round(low, 1),
                expected_units=round(expected, 1),
                expected_high=round(high, 1),
                checked_at=event.time,
            )
        )
    return found


def money_at_stake(
    session: Session, banners: BannerScope, now: datetime, currency: str | None
) -> MoneyAtStake:
    """Incremental revenue and margin of promotions launching in the next 14 days."""
    start = now.date()
    rows = repository.forecast_money_launching(
        session, banners, start, start + timedelta(days=MONEY_HORIZON_DAYS), now
    )
    risky = [row for row in rows if row[8]]

    def total(selected: list[object], column: int) -> Money:
        amount = sum((cents(row[column]) for row in selected), Decimal(0))  # type: ignore[index]
        return Money(amount=amount, currency=currency)

    return MoneyAtStake(
        horizon_days=MONEY_HORIZON_DAYS,
        promotions=len(rows),
        incremental_revenue=total(list(rows), 6),
        incremental_margin=total(list(rows), 7),
        at_risk_promotions=len(risky),
        at_risk_incremental_revenue=total(list(risky), 6),
        at_risk_incremental_margin=total(list(risky), 7),
    )

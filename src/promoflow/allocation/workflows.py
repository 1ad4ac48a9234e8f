"""A promotion revision's stock decisions: allocate, replenish, then watch sell-through live.

Part of the promotion workflow's body (called from `lifecycle.workflows`), so it only
decides: database writes go through `run_tx`, outside calls through `allocation.steps`
(and the clock through `lifecycle.steps`), and every wait is `waiting.wait` with an
explicit timeout. The steps and transactions keep the DBOS names they were recorded
under when this was `lifecycle.planning_flow`, so a workflow in flight replays here.
"""

from __future__ import annotations

import math
from datetime import datetime

from promoflow.allocation import sell_through_tx as live
from promoflow.allocation import steps
from promoflow.allocation import stock_moves as moves
from promoflow.allocation import transactions as ptx
from promoflow.allocation.schemas import PolicyData, Proposal, ReviewRules
from promoflow.exceptions.schemas import (
    BLOCK_ACTIONS,
    EVERY_ACTION,
    CaseAction,
    CaseKind,
    CaseSpec,
    CaseStatus,
    Severity,
)
from promoflow.kit.errors import PolicyError
from promoflow.kit.roles import Role
from promoflow.lifecycle import case_tx
from promoflow.lifecycle import steps as clock
from promoflow.lifecycle.timing import LifecycleTiming
from promoflow.lifecycle.waiting import Cancelled, await_case, wait
from promoflow.runtime import run_tx

PLANNER = Role.SUPPLY_CHAIN_PLANNER


def plan_stock(promotion_id: int, timing: LifecycleTiming) -> PolicyData:
    """Allocate DC stock to the stores, then order what is still missing; returns the policy."""
    policy = _policy(promotion_id, timing)
    planned = steps.plan_allocation(promotion_id, policy)
    allocation: Proposal = run_tx(ptx.propose_allocation, promotion_id, planned, policy)
    if _decided(promotion_id, allocation, policy["allocation"]["review"], timing) in ptx.APPLIED:
        _apply_allocation(promotion_id, allocation["recommendation_id"], timing)
    planned = steps.plan_replenishment(promotion_id, policy)
    replenishment: Proposal = run_tx(ptx.propose_replenishment, promotion_id, planned, policy)
    review = policy["replenishment"]["review"]
    if _decided(promotion_id, replenishment, review, timing) in ptx.APPLIED:
        ack_due = timing.calendar_hours(policy["replenishment"]["ack_due_hours"])
        _apply_replenishment(promotion_id, replenishment["recommendation_id"], ack_due, timing)
    return policy


def _policy(promotion_id: int, timing: LifecycleTiming) -> PolicyData:
    """The planning policy; a broken file goes to the operator instead of failing the run."""
    while True:
        try:
            return steps.planning_policy()
        except PolicyError as error:
            spec = CaseSpec(
                kind=CaseKind.INTEGRATION_FAILURE,
                severity=Severity.HIGH,
                owner_role=Role.OPERATIONS_ADMIN,
                title="the planning policy cannot be loaded",
                detail=f"{error.message}. Fix the file, then retry.",
                allowed_actions=(CaseAction.RETRY, *BLOCK_ACTIONS),
                linked={"policy": "planning.yaml"},
            )
            await_case(run_tx(case_tx.open_case, promotion_id, spec), timing)


def _decided(
    promotion_id: int, proposal: Proposal, review: ReviewRules, timing: LifecycleTiming
) -> str:
    """The recommendation's final status, waiting for a planner when the policy asks for one.

    The wait walks the review SLA: a reminder, then an approval_overdue case for the
    escalation role; the case clears itself when the planner decides, and retry on it
    gives the planner a fresh SLA.
    """
    rec_id, kind = proposal["recommendation_id"], proposal["kind"]
    hour = timing.seconds_per_business_hour
    since, reminded, case_id = proposal["created"], False, None
    while True:
        state = run_tx(ptx.recommendation_state, rec_id)
        if state["status"] != ptx.PROPOSED:
            if case_id is not None:
                decided = f"{kind} recommendation {rec_id} {state['status']}"
                run_tx(case_tx.close_case_cleared, case_id, f"{decided} by {state['decided_by']}")
            return str(state["status"])
        if case_id is not None:
            case = run_tx(case_tx.case_state, case_id)
            resolved = case["status"] == CaseStatus.RESOLVED
            if resolved and case["resolution"] == CaseAction.CANCEL_PROMOTION:
                raise Cancelled(str(case["resolved_by"]), case["reason"] or "cancelled")
            if resolved:
                since, reminded, case_id = clock.now_ts(), False, None  # retry: a fresh SLA
            elif wait(timing.operator_wait_seconds) is None:
                run_tx(case_tx.case_reminder, case_id)
            continue
        milestone = review["sla_hours"] if reminded else review["remind_after_hours"]
        if wait(since + milestone * hour - clock.now_ts()) is not None:
            continue
        if not reminded:
            run_tx(ptx.recommendation_reminder, rec_id, PLANNER)
            reminded = True
        else:
            case_id = run_tx(
                ptx.recommendation_overdue, rec_id, review["escalate_to"], review["sla_hours"]
            )


def _apply_allocation(promotion_id: int, rec_id: int, timing: LifecycleTiming) -> None:
    """Have the WMS ship the decided quantities; our positions follow its answer."""
    shipment = run_tx(moves.allocation_transfers, rec_id)
    if not shipment["transfers"]:
        return
    while True:
        try:
            shipped = steps.transfer_stock(shipment["key"], shipment["transfers"])
        except Exception as error:
            if (
                _operator_decides(promotion_id, rec_id, "allocation", error, timing)
                == CaseAction.WAIVE
            ):
                return
            continue
        run_tx(moves.allocation_applied, rec_id, shipped["positions"], shipped["reference"])
        return


def _apply_replenishment(
    promotion_id: int, rec_id: int, ack_due_seconds: float, timing: LifecycleTiming
) -> None:
    """Raise the purchase orders and send them; the supplier_commitments gate takes over."""
    requests = run_tx(moves.raise_replenishment, rec_id, ack_due_seconds)
    while requests:
        try:
            steps.submit_purchase_orders(requests)
            return
        except Exception as error:
            if (
                _operator_decides(promotion_id, rec_id, "replenishment", error, timing)
                == CaseAction.WAIVE
            ):
                return


def _operator_decides(
    promotion_id: int, rec_id: int, kind: str, error: Exception, timing: LifecycleTiming
) -> str:
    """Retries are spent: an integration_failure case, and the planner's decision on it."""
    causes = getattr(error, "errors", None) or []
    detail = f"{error}" + (f"; last error: {causes[-1]}" if causes else "")
    spec = CaseSpec(
        kind=CaseKind.INTEGRATION_FAILURE,
        severity=Severity.HIGH,
        owner_role=PLANNER,
        title=f"the {kind} recommendation {rec_id} could not be applied",
        detail=detail[:2000] + " Retry once the system answers, or waive to launch without it.",
        allowed_actions=EVERY_ACTION,
        linked={"recommendation_id": rec_id, "kind": kind},
    )
    return await_case(run_tx(case_tx.open_case, promotion_id, spec), timing)


def monitor_live(promotion_id: int, timing: LifecycleTiming, policy: PolicyData) -> None:
    """Until the window ends, compare sell-through with the forecast every check interval."""
    rules = policy["sell_through"]
    opened = datetime.fromisoformat(timing.launch_at).timestamp()
    ends = datetime.fromisoformat(timing.end_at).timestamp()
    window_days: int = run_tx(live.window_days, promotion_id)
    interval = timing.calendar_hours(rules["check_every_hours"])
    next_check = max(clock.now_ts(), opened) + interval
    checked_days, feed_case = 0, None
    while (now := clock.now_ts()) < ends:
        if now >= next_check:
            next_check = now + interval
            share = (now - opened) / max(ends - opened, 1e-9)
            days = min(window_days, math.floor(share * window_days))
            if days > checked_days and days / window_days >= rules["min_elapsed_share"]:
                feed_case = _check_sell_through(promotion_id, days, window_days, policy, feed_case)
                checked_days = days
        wait(min(next_check, ends) - now)


def _check_sell_through(
    promotion_id: int, days: int, window_days: int, policy: PolicyData, feed_case: int | None
) -> int | None:
    """One check; a sales feed that stays down opens one case (cleared when it answers)."""
    try:
        sold = steps.sales_to_date(promotion_id, days)
    except Exception as error:
        if feed_case is None:
            spec = CaseSpec(
                kind=CaseKind.INTEGRATION_FAILURE,
                severity=Severity.MEDIUM,
                owner_role=Role.OPERATIONS_ADMIN,
                title="sell-through checks cannot read the sales feed",
                detail=f"{error}"[:2000]
                + " The promotion stays live; checks resume when it answers.",
                allowed_actions=(CaseAction.WAIVE, *BLOCK_ACTIONS),
                linked={"check_day": days},
            )
            feed_case = run_tx(case_tx.open_case, promotion_id, spec)
        return feed_case
    if feed_case is not None:
        run_tx(case_tx.close_case_cleared, feed_case, "the sales feed answers again")
    run_tx(live.check_sell_through, promotion_id, sold, days, window_days, policy)
    return None

"""The lifecycle's planning decisions: allocate, replenish, then watch sell-through live.

Part of the workflow body (called from `workflows.promotion_lifecycle`), so it only
decides: database writes go through `run_tx`, outside calls through
`planning_steps`/`steps`, and every wait is `waiting.wait` with an explicit timeout.
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any

from promoflow.kit.errors import PolicyError
from promoflow.lifecycle import planning_steps, steps
from promoflow.lifecycle import planning_tx as ptx
from promoflow.lifecycle import sell_through_tx as live
from promoflow.lifecycle import stock_moves as moves
from promoflow.lifecycle import transactions as tx
from promoflow.lifecycle.timing import LifecycleTiming
from promoflow.lifecycle.waiting import Cancelled, await_case, wait
from promoflow.runtime import run_tx

FAILURE_ACTIONS = ["retry", "waive", "reassign", "escalate", "cancel_promotion"]
PLANNER = "supply_chain_planner"


def plan_stock(promotion_id: int, timing: LifecycleTiming) -> dict[str, Any]:
    """Allocate DC stock to the stores, then order what is still missing; returns the policy."""
    policy = _policy(promotion_id, timing)
    planned = planning_steps.plan_allocation(promotion_id, policy)
    allocation = run_tx(ptx.propose_allocation, promotion_id, planned, policy)
    if _decided(promotion_id, allocation, policy["allocation"]["review"], timing) in ptx.APPLIED:
        _apply_allocation(promotion_id, allocation["recommendation_id"], timing)
    planned = planning_steps.plan_replenishment(promotion_id, policy)
    replenishment = run_tx(ptx.propose_replenishment, promotion_id, planned, policy)
    review = policy["replenishment"]["review"]
    if _decided(promotion_id, replenishment, review, timing) in ptx.APPLIED:
        ack_due = timing.hours(policy["replenishment"]["ack_due_hours"])
        _apply_replenishment(promotion_id, replenishment["recommendation_id"], ack_due, timing)
    return policy


def _policy(promotion_id: int, timing: LifecycleTiming) -> dict[str, Any]:
    """The planning policy; a broken file goes to the operator instead of failing the run."""
    while True:
        try:
            return planning_steps.planning_policy()
        except PolicyError as error:
            case_id = run_tx(
                tx.open_case,
                promotion_id,
                "integration_failure",
                "high",
                "operations_admin",
                "the planning policy cannot be loaded",
                f"{error.message}. Fix the file, then retry.",
                ["retry", "reassign", "escalate", "cancel_promotion"],
                {"policy": "planning.yaml"},
                False,
            )
            await_case(case_id, timing)


def _decided(
    promotion_id: int, proposal: dict[str, Any], review: dict[str, Any], timing: LifecycleTiming
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
        if state["status"] != "proposed":
            if case_id is not None:
                decided = f"{kind} recommendation {rec_id} {state['status']}"
                run_tx(tx.close_case_cleared, case_id, f"{decided} by {state['decided_by']}")
            return str(state["status"])
        if case_id is not None:
            case = run_tx(tx.case_state, case_id)
            if case["status"] == "resolved" and case["resolution"] == "cancel_promotion":
                raise Cancelled(str(case["resolved_by"]), case["reason"] or "cancelled")
            if case["status"] == "resolved":
                since, reminded, case_id = steps.now_ts(), False, None  # retry: a fresh SLA
            elif wait(timing.operator_wait_seconds) is None:
                run_tx(tx.case_reminder, case_id)
            continue
        milestone = review["sla_hours"] if reminded else review["remind_after_hours"]
        if wait(since + milestone * hour - steps.now_ts()) is not None:
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
            shipped = planning_steps.transfer_stock(shipment["key"], shipment["transfers"])
        except Exception as error:
            if _operator_decides(promotion_id, rec_id, "allocation", error, timing) == "waive":
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
            planning_steps.submit_purchase_orders(requests)
            return
        except Exception as error:
            if _operator_decides(promotion_id, rec_id, "replenishment", error, timing) == "waive":
                return


def _operator_decides(
    promotion_id: int, rec_id: int, kind: str, error: Exception, timing: LifecycleTiming
) -> str:
    """Retries are spent: an integration_failure case, and the planner's decision on it."""
    causes = getattr(error, "errors", None) or []
    detail = f"{error}" + (f"; last error: {causes[-1]}" if causes else "")
    case_id = run_tx(
        tx.open_case,
        promotion_id,
        "integration_failure",
        "high",
        PLANNER,
        f"the {kind} recommendation {rec_id} could not be applied",
        detail[:2000] + " Retry once the system answers, or waive to launch without it.",
        FAILURE_ACTIONS,
        {"recommendation_id": rec_id, "kind": kind},
        False,
    )
    return await_case(case_id, timing)


def monitor_live(promotion_id: int, timing: LifecycleTiming, policy: dict[str, Any]) -> None:
    """Until the window ends, compare sell-through with the forecast every check interval."""
    rules = policy["sell_through"]
    opened = datetime.fromisoformat(timing.launch_at).timestamp()
    ends = datetime.fromisoformat(timing.end_at).timestamp()
    window_days = run_tx(live.window_days, promotion_id)
    interval = timing.hours(rules["check_every_hours"])
    next_check = max(steps.now_ts(), opened) + interval
    checked_days, feed_case = 0, None
    while (now := steps.now_ts()) < ends:
        if now >= next_check:
            next_check = now + interval
            share = (now - opened) / max(ends - opened, 1e-9)
            days = min(window_days, math.floor(share * window_days))
            if days > checked_days and days / window_days >= rules["min_elapsed_share"]:
                feed_case = _check_sell_through(promotion_id, days, window_days, policy, feed_case)
                checked_days = days
        wait(min(next_check, ends) - now)


def _check_sell_through(
    promotion_id: int, days: int, window_days: int, policy: dict[str, Any], feed_case: int | None
) -> int | None:
    """One check; a sales feed that stays down opens one case (cleared when it answers)."""
    try:
        sold = planning_steps.sales_to_date(promotion_id, days)
    except Exception as error:
        if feed_case is None:
            feed_case = run_tx(
                tx.open_case,
                promotion_id,
                "integration_failure",
                "medium",
                "operations_admin",
                "sell-through checks cannot read the sales feed",
                f"{error}"[:2000] + " The promotion stays live; checks resume when it answers.",
                ["waive", "reassign", "escalate", "cancel_promotion"],
                {"check_day": days},
                False,
            )
        return feed_case
    if feed_case is not None:
        run_tx(tx.close_case_cleared, feed_case, "the sales feed answers again")
    run_tx(live.check_sell_through, promotion_id, sold, days, window_days, policy)
    return None

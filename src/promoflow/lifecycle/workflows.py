"""The promotion lifecycle as one durable DBOS workflow per promotion revision.

This module only decides. Database writes go through `run_tx` (exactly once),
outside calls through `steps` (idempotent keys), and every wait is a
`DBOS.recv` with an explicit timeout, so SLAs and launch times survive a crash.
No clock, randomness or I/O happens in these function bodies. Allocation,
replenishment and live sell-through decisions are in `planning_flow`; how the
workflow waits (and how a cancel ends any wait) is in `waiting`.
"""

from __future__ import annotations

from typing import Any

from dbos import DBOS

from promoflow.lifecycle import planning_flow, steps, withdrawal
from promoflow.lifecycle import transactions as tx
from promoflow.lifecycle.timing import LifecycleTiming
from promoflow.lifecycle.waiting import Cancelled, await_case
from promoflow.lifecycle.waiting import wait as _wait
from promoflow.runtime import run_tx

CASE_ACTIONS_PUBLICATION = ["retry", "waive", "reassign", "escalate", "cancel_promotion"]
CASE_ACTIONS_GATES = ["reassign", "escalate", "cancel_promotion"]
# A DBOS patch marker: workflows that reached their launch gates before planning
# existed recover along the old path (no planning, no sell-through checks).
PLANNING = "stock-planning-and-sell-through"
# Workflows that passed assessment before the forecast left the write transaction.
FORECAST = "forecast-outside-the-write-lock"
# Workflows that reached their launch gates before an overdue supplier acknowledgement
# was escalated at once (rather than at launch) keep waiting for the launch date.
SUPPLIER_ACKS = "escalate-overdue-supplier-acknowledgements"
# Revisions cancelled or rejected before purchase orders were withdrawn on close keep
# their POs open, as they did then.
WITHDRAW_ORDERS = "withdraw-purchase-orders-on-close"
__all__ = ["Cancelled", "promotion_lifecycle"]


@DBOS.workflow()
def promotion_lifecycle(
    promotion_id: int, revision: int, actor: str, timing_data: dict[str, Any]
) -> str:
    """Take one promotion revision from submission to closed (or a side exit)."""
    timing = LifecycleTiming.from_dict(timing_data)
    submitted = run_tx(tx.submit, promotion_id, actor, timing_data)
    published: dict[str, dict[str, Any]] = {}
    try:
        if run_tx(tx.validate, promotion_id)["blocking"]:
            return "rejected"
        if DBOS.patch(FORECAST):
            run_tx(tx.record_assessment, promotion_id, steps.forecast_demand(promotion_id))
        else:
            run_tx(tx.assess, promotion_id)
        if not _approvals(promotion_id, revision, timing):
            return "rejected"
        run_tx(tx.transition, promotion_id, "scheduled", "approved; preparing launch")
        steps.send_store_tasks(promotion_id)
        # Revisions already past this point when planning shipped carry on as they were.
        policy = planning_flow.plan_stock(promotion_id, timing) if DBOS.patch(PLANNING) else None
        _launch_gates(promotion_id, timing)
        run_tx(tx.transition, promotion_id, "publishing", "every blocking gate passed")
        for channel in submitted["channels"]:
            plan = _publish_channel(promotion_id, channel, timing)
            if plan is not None:
                published[channel] = plan
        run_tx(tx.transition, promotion_id, "live", "published to " + ", ".join(published))
        if policy is not None:
            planning_flow.monitor_live(promotion_id, timing, policy)
        else:
            _wait_until(timing.end_at)
    except Cancelled as cancel:
        for channel, plan in published.items():
            steps.revert_channel(promotion_id, channel, plan["key"], plan["parts"])
        _close(promotion_id, revision, "cancelled", cancel.reason, cancel.actor, timing)
        return "cancelled"
    run_tx(tx.transition, promotion_id, "ended", "promotion window over")
    actuals = steps.fetch_actuals(promotion_id)
    analysis = run_tx(tx.analyse, promotion_id, actuals)
    steps.post_finance(
        promotion_id, submitted["code"], revision, analysis["margin"], analysis["vendor_funding"]
    )
    run_tx(tx.transition, promotion_id, "closed", "analysed and posted to finance")
    return "closed"


def _close(
    promotion_id: int,
    revision: int,
    target: str,
    reason: str,
    actor: str,
    timing: LifecycleTiming,
) -> None:
    """End the revision early: its purchase orders are withdrawn (or go to the planner)."""
    withdraw = DBOS.patch(WITHDRAW_ORDERS)
    left = withdrawal.withdraw_orders(promotion_id, reason) if withdraw else []
    run_tx(tx.close_revision, promotion_id, revision, target, reason, actor)
    if left:
        withdrawal.hand_over(promotion_id, left, reason, timing)


def _approvals(promotion_id: int, revision: int, timing: LifecycleTiming) -> bool:
    """Wait for every required role in parallel, walking each SLA: remind, escalate, expire."""
    specs = {t["task_id"]: t for t in run_tx(tx.open_approvals, promotion_id)}
    while True:
        status = run_tx(tx.approval_status, promotion_id, revision)
        if status["rejected"]:
            reason = "rejected by " + "; ".join(status["rejected"])
            _close(promotion_id, revision, "rejected", reason, "system", timing)
            return False
        if status["expired"]:
            reason = "approval expired for " + ", ".join(status["expired"])
            _close(promotion_id, revision, "rejected", reason, "system", timing)
            return False
        if status["all_approved"] or not status["pending"]:
            run_tx(tx.transition, promotion_id, "approved", "every required role approved")
            return True
        due, task_id, action = min(
            _next_milestone(specs[p["task_id"]], p) for p in status["pending"]
        )
        if _wait(due - steps.now_ts()) is None:
            run_tx(tx.approval_milestone, task_id, action, specs[task_id]["escalate_to"])


def _next_milestone(spec: dict[str, Any], pending: dict[str, Any]) -> tuple[float, int, str]:
    """When the task's next SLA milestone falls, in epoch seconds."""
    hour = spec["seconds_per_hour"]
    if not pending["reminded"]:
        return spec["created"] + spec["remind_after"] * hour, spec["task_id"], "remind"
    if not pending["escalated"]:
        return spec["created"] + spec["escalate_after"] * hour, spec["task_id"], "escalate"
    return spec["created"] + spec["expire_after"] * hour, spec["task_id"], "expire"


def _launch_gates(promotion_id: int, timing: LifecycleTiming) -> None:
    """Re-evaluate the gates on every signal until launch time with all blocking gates clear."""
    case_id: int | None = None
    escalate_acks = DBOS.patch(SUPPLIER_ACKS)
    while True:
        steps.refresh_supplier_acks(promotion_id)
        gate_round = run_tx(tx.evaluate_gates, promotion_id)
        overdue = gate_round.get("overdue_acks") or []
        if escalate_acks and overdue and case_id is None:
            # A supplier that has not acknowledged by the PO's due time is a problem
            # now, while there is still time to chase it or order elsewhere.
            case_id = run_tx(
                tx.open_case,
                promotion_id,
                "supplier_shortfall",
                "high",
                "supply_chain_planner",
                "supplier acknowledgement overdue: " + ", ".join(overdue),
                "These purchase orders were due to be acknowledged and the supplier has not "
                "answered. Chase the supplier or order elsewhere; the launch stays blocked by "
                "the supplier gate until they are confirmed or the gate is waived.",
                CASE_ACTIONS_GATES,
                {"purchase_orders": overdue, "gates": gate_round["failing"]},
                False,
            )
        until_launch = steps.seconds_until(timing.launch_at)
        if gate_round["ready"]:
            if case_id is not None:
                run_tx(tx.close_case_cleared, case_id, "launch gates passed on re-evaluation")
                case_id = None
            if until_launch <= 0:
                return
            _wait(until_launch)
            continue
        if until_launch <= 0 and case_id is None:
            kind, owner = _gate_case(gate_round["failing"])
            case_id = run_tx(
                tx.open_case,
                promotion_id,
                kind,
                "high",
                owner,
                "launch blocked by " + ", ".join(gate_round["failing"]),
                "The launch date has come and these blocking gates still fail. Fix the cause "
                "(stock, acknowledgement, task) or have an authorised role waive the gate.",
                CASE_ACTIONS_GATES,
                {"gates": gate_round["failing"]},
                False,
            )
        _wait(timing.gate_recheck_seconds)


# Which exception a blocked gate raises, and who owns it; the first failing gate decides.
GATE_CASES = {
    "inventory_coverage": ("stockout_risk", "supply_chain_planner"),
    "stockout_risk": ("stockout_risk", "supply_chain_planner"),
    "supplier_commitments": ("supplier_shortfall", "supply_chain_planner"),
    "price_validity": ("pricing_mismatch", "pricing_analyst"),
    "store_readiness": ("integration_failure", "store_operations"),
    "channel_readiness": ("integration_failure", "channel_operations"),
}


def _gate_case(failing: list[str]) -> tuple[str, str]:
    return next(
        (GATE_CASES[g] for g in failing if g in GATE_CASES),
        ("integration_failure", "operations_admin"),
    )


def _publish_channel(
    promotion_id: int, channel: str, timing: LifecycleTiming
) -> dict[str, Any] | None:
    """Publish every part; on exhausted retries open a case and wait for the operator."""
    plan = steps.plan_publication(promotion_id, channel)
    while True:
        try:
            receipts = [
                steps.publish_part(promotion_id, channel, plan["key"], part, plan["size"])
                for part in range(plan["parts"])
            ]
        except Exception as error:
            detail = _explain(error)
            case_id = run_tx(
                tx.open_case,
                promotion_id,
                "channel_publication_error",
                "critical",
                "channel_operations",
                f"{channel} publication failed after retries",
                detail,
                CASE_ACTIONS_PUBLICATION,
                {"channel": channel, "publication_key": plan["key"]},
                True,
            )
            run_tx(tx.publication_failed, promotion_id, channel, detail)
            decision = await_case(case_id, timing)  # cancel_promotion raises Cancelled
            run_tx(tx.transition, promotion_id, "publishing", f"operator chose {decision}")
            if decision == "waive":
                run_tx(tx.publication_skipped, promotion_id, channel, case_id)
                return None
            continue
        run_tx(tx.publication_done, promotion_id, channel, receipts)
        return plan


def _explain(error: Exception) -> str:
    """The step's own errors, not only DBOS's "retries exhausted" wrapper."""
    causes = getattr(error, "errors", None) or []
    last = f"; last error: {causes[-1]}" if causes else ""
    return f"{error}{last}"[:2000]


def _wait_until(iso_time: str) -> None:
    while (remaining := steps.seconds_until(iso_time)) > 0:
        _wait(remaining)

"""The promotion lifecycle as one durable DBOS workflow per promotion revision.

This module only decides. Database writes go through `run_tx` (exactly once),
outside calls through `steps` (idempotent keys), and every wait is a
`DBOS.recv` with an explicit timeout, so SLAs and launch times survive a crash.
No clock, randomness or I/O happens in these function bodies. Allocation,
replenishment and live sell-through decisions are in `allocation.workflows`; how the
workflow waits (and how a cancel ends any wait) is in `waiting`.

Replay: DBOS records every step and transaction of a run by name (a step's pinned
`name=`, a transaction's function name) and a recovered workflow replays them in
order, checking each name. Moving code between modules keeps those names; changing
what the workflow does in order is guarded by a patch marker below.
"""

from __future__ import annotations

from typing import Any

from dbos import DBOS

from promoflow.allocation import workflows as allocation
from promoflow.allocation.schemas import PolicyData
from promoflow.approvals.schemas import SlaStep
from promoflow.exceptions.schemas import (
    BLOCK_ACTIONS,
    EVERY_ACTION,
    CaseAction,
    CaseKind,
    CaseSpec,
    Severity,
)
from promoflow.gates.schemas import Gate
from promoflow.kit.roles import Role
from promoflow.lifecycle import approval_tx, case_tx, steps, withdrawal
from promoflow.lifecycle import transactions as tx
from promoflow.lifecycle.case_tx import SYSTEM
from promoflow.lifecycle.schemas import ApprovalSpec, PendingApproval, PublicationPlan, Submitted
from promoflow.lifecycle.timing import LifecycleTiming
from promoflow.lifecycle.waiting import Cancelled, await_case
from promoflow.lifecycle.waiting import wait as _wait
from promoflow.promotions.states import PromotionState
from promoflow.runtime import run_tx

S = PromotionState
CASE_ACTIONS_PUBLICATION = EVERY_ACTION
CASE_ACTIONS_GATES = BLOCK_ACTIONS
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
# Revisions that ended before their open cases were settled at the end keep them open.
SETTLE_CASES = "settle-cases-when-the-window-ends"
__all__ = ["Cancelled", "promotion_lifecycle"]


@DBOS.workflow(name="promotion_lifecycle")
def promotion_lifecycle(
    promotion_id: int, revision: int, actor: str, timing_data: dict[str, Any]
) -> str:
    """Take one promotion revision from submission to closed (or a side exit)."""
    timing = LifecycleTiming.from_dict(timing_data)
    submitted: Submitted = run_tx(tx.submit, promotion_id, actor, timing_data)
    published: dict[str, PublicationPlan] = {}
    try:
        if run_tx(tx.validate, promotion_id)["blocking"]:
            return str(S.REJECTED)
        if DBOS.patch(FORECAST):
            run_tx(tx.record_assessment, promotion_id, steps.forecast_demand(promotion_id))
        else:
            run_tx(tx.assess, promotion_id)
        if not _approvals(promotion_id, revision, timing):
            return str(S.REJECTED)
        run_tx(tx.transition, promotion_id, S.SCHEDULED, "approved; preparing launch")
        steps.send_store_tasks(promotion_id)
        # Revisions already past this point when planning shipped carry on as they were.
        policy: PolicyData | None = (
            allocation.plan_stock(promotion_id, timing) if DBOS.patch(PLANNING) else None
        )
        _launch_gates(promotion_id, timing)
        run_tx(tx.transition, promotion_id, S.PUBLISHING, "every blocking gate passed")
        for channel in submitted["channels"]:
            plan = _publish_channel(promotion_id, channel, timing)
            if plan is not None:
                published[channel] = plan
        run_tx(tx.transition, promotion_id, S.LIVE, "published to " + ", ".join(published))
        if policy is not None:
            allocation.monitor_live(promotion_id, timing, policy)
        else:
            _wait_until(timing.end_at)
    except Cancelled as cancel:
        for channel, plan in published.items():
            steps.revert_channel(promotion_id, channel, plan["key"], plan["parts"])
        _close(promotion_id, revision, S.CANCELLED, cancel.reason, cancel.actor, timing)
        return str(S.CANCELLED)
    run_tx(tx.transition, promotion_id, S.ENDED, "promotion window over")
    if DBOS.patch(SETTLE_CASES):
        run_tx(case_tx.settle_cases, promotion_id)
    actuals = steps.fetch_actuals(promotion_id)
    analysis = run_tx(tx.analyse, promotion_id, actuals)
    steps.post_finance(
        promotion_id, submitted["code"], revision, analysis["margin"], analysis["vendor_funding"]
    )
    run_tx(tx.transition, promotion_id, S.CLOSED, "analysed and posted to finance")
    return str(S.CLOSED)


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
    run_tx(approval_tx.close_revision, promotion_id, revision, target, reason, actor)
    if left:
        withdrawal.hand_over(promotion_id, left, reason, timing)


def _approvals(promotion_id: int, revision: int, timing: LifecycleTiming) -> bool:
    """Wait for every required role in parallel, walking each SLA: remind, escalate, expire."""
    opened: list[ApprovalSpec] = run_tx(approval_tx.open_approvals, promotion_id)
    specs = {t["task_id"]: t for t in opened}
    while True:
        status = run_tx(approval_tx.approval_status, promotion_id, revision)
        if status["rejected"]:
            reason = "rejected by " + "; ".join(status["rejected"])
            _close(promotion_id, revision, S.REJECTED, reason, SYSTEM, timing)
            return False
        if status["expired"]:
            reason = "approval expired for " + ", ".join(status["expired"])
            _close(promotion_id, revision, S.REJECTED, reason, SYSTEM, timing)
            return False
        if status["all_approved"] or not status["pending"]:
            run_tx(tx.transition, promotion_id, S.APPROVED, "every required role approved")
            return True
        due, task_id, action = min(
            _next_milestone(specs[p["task_id"]], p) for p in status["pending"]
        )
        if _wait(due - steps.now_ts()) is None:
            run_tx(approval_tx.approval_milestone, task_id, action, specs[task_id]["escalate_to"])


def _next_milestone(spec: ApprovalSpec, pending: PendingApproval) -> tuple[float, int, str]:
    """When the task's next SLA milestone falls, in epoch seconds."""
    hour = spec["seconds_per_hour"]
    if not pending["reminded"]:
        return spec["created"] + spec["remind_after"] * hour, spec["task_id"], SlaStep.REMIND
    if not pending["escalated"]:
        return spec["created"] + spec["escalate_after"] * hour, spec["task_id"], SlaStep.ESCALATE
    return spec["created"] + spec["expire_after"] * hour, spec["task_id"], SlaStep.EXPIRE


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
            spec = CaseSpec(
                kind=CaseKind.SUPPLIER_SHORTFALL,
                severity=Severity.HIGH,
                owner_role=Role.SUPPLY_CHAIN_PLANNER,
                title="supplier acknowledgement overdue: " + ", ".join(overdue),
                detail="These purchase orders were due to be acknowledged and the supplier has "
                "not answered. Chase the supplier or order elsewhere; the launch stays blocked "
                "by the supplier gate until they are confirmed or the gate is waived.",
                allowed_actions=CASE_ACTIONS_GATES,
                linked={"purchase_orders": overdue, "gates": gate_round["failing"]},
            )
            case_id = run_tx(case_tx.open_case, promotion_id, spec)
        until_launch = steps.seconds_until(timing.launch_at)
        if gate_round["ready"]:
            if case_id is not None:
                run_tx(case_tx.close_case_cleared, case_id, "launch gates passed on re-evaluation")
                case_id = None
            if until_launch <= 0:
                return
            _wait(until_launch)
            continue
        if until_launch <= 0 and case_id is None:
            kind, owner = _gate_case(gate_round["failing"])
            spec = CaseSpec(
                kind=kind,
                severity=Severity.HIGH,
                owner_role=owner,
                title="launch blocked by " + ", ".join(gate_round["failing"]),
                detail="The launch date has come and these blocking gates still fail. "
                + GATE_CASE_ADVICE.get(kind, "Fix the cause")
                + " or have an authorised role waive the gate.",
                allowed_actions=CASE_ACTIONS_GATES,
                linked={"gates": gate_round["failing"]},
            )
            case_id = run_tx(case_tx.open_case, promotion_id, spec)
        _wait(timing.gate_recheck_seconds)


# Which exception a blocked gate raises, and who owns it; the first failing gate decides.
GATE_CASES: dict[str, tuple[CaseKind, Role]] = {
    Gate.INVENTORY_COVERAGE: (CaseKind.STOCKOUT_RISK, Role.SUPPLY_CHAIN_PLANNER),
    Gate.STOCKOUT_RISK: (CaseKind.STOCKOUT_RISK, Role.SUPPLY_CHAIN_PLANNER),
    Gate.SUPPLIER_COMMITMENTS: (CaseKind.SUPPLIER_SHORTFALL, Role.SUPPLY_CHAIN_PLANNER),
    Gate.PRICE_VALIDITY: (CaseKind.PRICING_MISMATCH, Role.PRICING_ANALYST),
    Gate.STORE_READINESS: (CaseKind.STORE_READINESS, Role.STORE_OPERATIONS),
    Gate.CHANNEL_READINESS: (CaseKind.INTEGRATION_FAILURE, Role.CHANNEL_OPERATIONS),
}
# What the case's owner does about it (the case clears itself once the gates pass).
GATE_CASE_ADVICE: dict[CaseKind, str] = {
    CaseKind.STOCKOUT_RISK: "Move or order stock for the short item-locations",
    CaseKind.SUPPLIER_SHORTFALL: "Chase the supplier's acknowledgement or order elsewhere",
    CaseKind.PRICING_MISMATCH: "Correct the promotion prices",
    CaseKind.STORE_READINESS: "Have the stores confirm their readiness tasks (signage, "
    "labels, display); reassign to the region that owns them or escalate",
    CaseKind.INTEGRATION_FAILURE: "Fix the channel set-up (ranging, connection)",
}


def _gate_case(failing: list[str]) -> tuple[CaseKind, Role]:
    return next(
        (GATE_CASES[g] for g in failing if g in GATE_CASES),
        (CaseKind.INTEGRATION_FAILURE, Role.OPERATIONS_ADMIN),
    )


def _publish_channel(
    promotion_id: int, channel: str, timing: LifecycleTiming
) -> PublicationPlan | None:
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
            spec = CaseSpec(
                kind=CaseKind.CHANNEL_PUBLICATION_ERROR,
                severity=Severity.CRITICAL,
                owner_role=Role.CHANNEL_OPERATIONS,
                title=f"{channel} publication failed after retries",
                detail=detail,
                allowed_actions=CASE_ACTIONS_PUBLICATION,
                linked={"channel": channel, "publication_key": plan["key"]},
                hold=True,
            )
            case_id = run_tx(case_tx.open_case, promotion_id, spec)
            run_tx(tx.publication_failed, promotion_id, channel, detail)
            decision = await_case(case_id, timing)  # cancel_promotion raises Cancelled
            run_tx(tx.transition, promotion_id, S.PUBLISHING, f"operator chose {decision}")
            if decision == CaseAction.WAIVE:
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

"""The lifecycle's database steps. Each runs through `runtime.run_tx`, so its writes
and DBOS's checkpoint commit together: exactly once, even across a crash."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

import polars as pl
import sqlalchemy as sa
from sqlalchemy.orm import Session

from promoflow.approvals import repository as approvals_repository
from promoflow.approvals import service as approvals_service
from promoflow.approvals.facts import promotion_facts
from promoflow.approvals.matrix import load_approval_policy, required_approvals
from promoflow.connectors.ports import PublicationReceipt
from promoflow.events.log import record_event
from promoflow.exceptions import service as exceptions_service
from promoflow.forecasting.champion import champion_forecaster
from promoflow.forecasting.post_event_accuracy import record_post_event_accuracy
from promoflow.forecasting.service import forecast_promotion
from promoflow.gates import service as gates_service
from promoflow.gates.policy import load_gate_policy
from promoflow.inventory.models import PurchaseOrder
from promoflow.kit.clock import utcnow
from promoflow.kit.errors import NotFound
from promoflow.promotions import repository as promotions_repository
from promoflow.promotions import service as promotions_service
from promoflow.promotions.models import Promotion
from promoflow.promotions.repository import forecast_totals
from promoflow.promotions.validation import validate_promotion
from promoflow.publications import service as publications_service
from promoflow.runtime import get_runtime


def _promotion(session: Session, promotion_id: int) -> Promotion:
    return promotions_service.get_promotion(session, promotion_id)


def submit(
    session: Session, promotion_id: int, actor: str, timing: dict[str, Any]
) -> dict[str, Any]:
    """Freeze the revision and mark it submitted."""
    promotion = promotions_service.submit_promotion(session, promotion_id, actor, timing)
    return {
        "code": promotion.code,
        "channels": list(promotion.channels),
        "revision": promotion.revision,
    }


def transition(
    session: Session,
    promotion_id: int,
    target: str,
    reason: str,
    actor: str = "system",
    data: dict[str, Any] | None = None,
) -> str:
    """Move the promotion to `target` (the state machine refuses illegal moves)."""
    promotion = _promotion(session, promotion_id)
    if promotion.status != target:
        promotions_service.transition(session, promotion, target, reason, actor, data)
    return target


def validate(session: Session, promotion_id: int) -> dict[str, Any]:
    """Run the validation rules; blocking findings reject the revision with their messages."""
    promotion = _promotion(session, promotion_id)
    findings = validate_promotion(session, promotion, today=utcnow().date())
    blocking = [f.message for f in findings if f.severity == "blocking"]
    if blocking:
        more = f" (+{len(blocking) - 3} more)" if len(blocking) > 3 else ""
        promotions_service.transition(
            session,
            promotion,
            "rejected",
            "validation failed: " + "; ".join(blocking[:3]) + more,
            data={"blocking_findings": len(blocking)},
        )
    else:
        promotions_service.transition(
            session,
            promotion,
            "validated",
            f"{len(findings)} finding(s), none blocking",
            data={"warnings": len(findings)},
        )
    return {"blocking": blocking, "warnings": len(findings) - len(blocking)}


def assess(session: Session, promotion_id: int) -> dict[str, Any]:
    """Forecast demand over the window and record the assessment (in one transaction).

    Kept for revisions that passed this point before forecasting moved out of the
    write transaction (see `steps.forecast_demand` and the FORECAST patch marker).
    """
    promotion = _promotion(session, promotion_id)
    summary = forecast_promotion(session, promotion, champion_forecaster(session))
    return record_assessment(session, promotion_id, asdict(summary))


def record_assessment(
    session: Session, promotion_id: int, summary: dict[str, Any]
) -> dict[str, Any]:
    """Move to assessed with the stored forecast's totals."""
    promotion = _promotion(session, promotion_id)
    data = {
        "baseline_units": round(summary["baseline_units"], 1),
        "promoted_units": round(summary["promoted_units"], 1),
        "uplift_pct": round(summary["uplift_pct"], 1),
        "model_version": summary["model_version"],
    }
    promotions_service.transition(
        session,
        promotion,
        "assessed",
        f"forecast {summary['promoted_units']:,.0f} units ({summary['uplift_pct']:+.0f} % vs "
        "baseline)",
        data=data,
    )
    return data


def open_approvals(session: Session, promotion_id: int) -> list[dict[str, Any]]:
    """Open one task per role the approval matrix requires; they run in parallel."""
    promotion = _promotion(session, promotion_id)
    policy = load_approval_policy(get_runtime().settings.policy_path("approvals.yaml"))
    required = required_approvals(promotion_facts(session, promotion), policy)
    now = utcnow()
    tasks = approvals_service.open_approval_tasks(
        session, promotion, required, now, seconds_per_business_hour=_seconds_per_hour(promotion)
    )
    promotions_service.transition(
        session, promotion, "in_approval", "awaiting " + ", ".join(r.role for r in required)
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
    actor: str = "system",
) -> str:
    """Reject or cancel the revision; nothing it asked of people stays in their queues."""
    now = utcnow()
    approvals_service.withdraw_pending(session, promotion_id, revision, reason, now)
    for case in exceptions_service.list_cases(session, status="open", promotion_id=promotion_id):
        exceptions_service.close_case(
            session, case, resolution="withdrawn", actor=actor, reason=reason, now=now
        )
    promotions_service.transition(session, _promotion(session, promotion_id), target, reason, actor)
    return target


def approval_status(session: Session, promotion_id: int, revision: int) -> dict[str, Any]:
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
    task = approvals_repository.get_task(session, task_id, for_update=True)
    if task is None or task.status != "pending":
        return "decided"
    now = utcnow()
    if action == "remind":
        approvals_service.remind(session, task, now)
    elif action == "escalate":
        approvals_service.escalate(session, task, escalate_to or "operations_admin", now)
    else:
        approvals_service.expire(session, task, now)
    return action


def evaluate_gates(session: Session, promotion_id: int) -> dict[str, Any]:
    """Evaluate every launch gate and store the round with its evidence."""
    promotion = _promotion(session, promotion_id)
    policy = load_gate_policy(get_runtime().settings.policy_path("gates.yaml"))
    # Read before the gates evaluate, so a PO called overdue here is overdue to them too.
    now = utcnow()
    gate_round = gates_service.evaluate_promotion_gates(session, promotion, policy)
    if not gate_round.launch_ready:
        promotion.status_reason = "blocked at launch gates: " + ", ".join(gate_round.failing)
    overdue = session.scalars(
        sa.select(PurchaseOrder.number)
        .where(
            PurchaseOrder.promotion_id == promotion_id,
            PurchaseOrder.ack_status == "pending",
            PurchaseOrder.ack_due_at < now,
            PurchaseOrder.status != "cancelled",
        )
        .order_by(PurchaseOrder.number)
    ).all()
    return {
        "ready": gate_round.launch_ready,
        "failing": list(gate_round.failing),
        "evaluation": gate_round.evaluation,
        "overdue_acks": list(overdue),
    }


def open_case(
    session: Session,
    promotion_id: int,
    kind: str,
    severity: str,
    owner_role: str,
    title: str,
    detail: str,
    allowed_actions: list[str],
    linked: dict[str, Any],
    hold: bool,
) -> int:
    """Open an exception case for the workflow to wait on; optionally put the promotion on hold."""
    promotion = _promotion(session, promotion_id)
    case = exceptions_service.open_case(
        session,
        kind=kind,
        severity=severity,
        owner_role=owner_role,
        title=title,
        detail=detail,
        promotion=promotion,
        linked=linked,
        allowed_actions=allowed_actions,
        workflow_id=promotion.workflow_id,
    )
    if hold:
        promotions_service.transition(
            session, promotion, "on_hold", title, data={"case_id": case.id}
        )
    return case.id


def case_state(session: Session, case_id: int) -> dict[str, Any]:
    case = exceptions_service.get_case(session, case_id)
    return {
        "status": case.status,
        "resolution": case.resolution,
        "resolved_by": case.resolved_by,
        "reason": case.resolution_reason or "",
    }


def close_case_cleared(session: Session, case_id: int, reason: str) -> None:
    """The condition behind a case cleared by itself (e.g. stock arrived): resolve it."""
    case = exceptions_service.get_case(session, case_id)
    exceptions_service.close_case(
        session, case, resolution="cleared", actor="system", reason=reason, now=utcnow()
    )


def analyse(session: Session, promotion_id: int, actuals: dict[str, Any]) -> dict[str, Any]:
    """Compare what sold with what was forecast and record the post-event analysis."""
    promotion = _promotion(session, promotion_id)
    forecast = forecast_totals(session, promotion_id, promotion.revision)
    accuracy = _record_accuracy(session, promotion, actuals.get("lines", []))
    units = actuals["units"]
    funding = float(promotion.vendor_funding_per_unit) * units
    data = {
        "actual_units": round(units, 1),
        "forecast_units": round(forecast["promoted"], 1),
        "baseline_units": round(forecast["baseline"], 1),
        "forecast_error_pct": round(100 * (forecast["promoted"] - units) / units, 1)
        if units
        else None,
        "realised_lift_pct": round(100 * (units / forecast["baseline"] - 1), 1)
        if forecast["baseline"]
        else None,
        "revenue": round(actuals["revenue"], 2),
        "margin": round(actuals["revenue"] - actuals["cost"] + funding, 2),
        "vendor_funding": round(funding, 2),
        **accuracy,
    }
    promotions_service.transition(
        session,
        promotion,
        "analysed",
        f"sold {units:,.0f} units vs {forecast['promoted']:,.0f} forecast",
        data=data,
    )
    return data


def _record_accuracy(
    session: Session, promotion: Promotion, lines: list[list[Any]]
) -> dict[str, Any]:
    """Post-event accuracy of the revision's forecast per item x store, kept per model."""
    items = {
        item.sku: item.id for _, item in promotions_repository.scope_items(session, promotion.id)
    }
    stores = {
        loc.code: loc.id for loc in promotions_repository.scope_locations(session, promotion.id)
    }
    sold = pl.DataFrame(
        [
            (items[sku], stores[code], float(units))
            for sku, code, units in lines
            if sku in items and code in stores
        ],
        schema={"item_id": pl.Int64, "location_id": pl.Int64, "actual_units": pl.Float64},
        orient="row",
    )
    try:
        row = record_post_event_accuracy(session, promotion.id, promotion.revision, sold)
    except NotFound:  # no forecast lines for this revision: nothing to score
        return {}
    return {
        "forecast_model": row.model_version,
        "forecast_wape": None if row.wape is None else round(row.wape, 3),
        "within_p10_p90_share": round(row.lines_within_p10_p90 / row.lines, 3)
        if row.lines
        else None,
    }


def case_reminder(session: Session, case_id: int) -> None:
    """The case waited a full operator SLA without a decision: log a re-alert."""
    case = exceptions_service.get_case(session, case_id)
    record_event(
        session,
        "exception.reminded",
        f"exception/{case_id}",
        {"kind": case.kind, "owner_role": case.owner_role},
        promotion_id=case.promotion_id,
    )


def publication_failed(session: Session, promotion_id: int, channel: str, detail: str) -> None:
    publications_service.mark_status(
        session, _promotion(session, promotion_id), channel, "failed", detail
    )


def publication_skipped(session: Session, promotion_id: int, channel: str, case_id: int) -> None:
    publications_service.mark_status(
        session,
        _promotion(session, promotion_id),
        channel,
        "skipped",
        f"waived in exception case {case_id}",
    )


def publication_done(
    session: Session, promotion_id: int, channel: str, receipts: list[dict[str, Any]]
) -> None:
    publications_service.mark_published(
        session,
        _promotion(session, promotion_id),
        channel,
        [PublicationReceipt(**receipt) for receipt in receipts],
    )

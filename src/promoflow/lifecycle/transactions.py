"""The promotion workflow's database steps. Each runs through `runtime.run_tx`, so its
writes and DBOS's checkpoint commit together: exactly once, even across a crash.

DBOS names a transaction after its function, and workflows in flight replay them by
that name: keep the function names (approvals are in `approval_tx`, the cases a
workflow waits on in `case_tx`). Every other domain is reached through its service.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any, TypedDict, cast

import polars as pl
from sqlalchemy.orm import Session

from promoflow.connectors.ports import PublicationReceipt
from promoflow.forecasting.champion import champion_forecaster
from promoflow.forecasting.post_event_accuracy import record_post_event_accuracy
from promoflow.forecasting.service import forecast_promotion
from promoflow.gates import service as gates_service
from promoflow.gates.policy import load_gate_policy
from promoflow.kit.clock import utcnow
from promoflow.kit.errors import NotFound
from promoflow.kit.words import plural
from promoflow.lifecycle import repository as repo
from promoflow.lifecycle.case_tx import SYSTEM
from promoflow.lifecycle.schemas import (
    Actuals,
    Analysis,
    Assessment,
    ForecastTotals,
    GateRound,
    Receipt,
    SoldLine,
    Submitted,
    Validated,
)
from promoflow.planning.leftover import left_from_allocation
from promoflow.promotions import service as promotions_service
from promoflow.promotions.models import Promotion
from promoflow.promotions.states import PromotionState
from promoflow.promotions.validation import validate_promotion
from promoflow.publications import service as publications_service
from promoflow.runtime import get_runtime

BLOCKING = "blocking"


def _promotion(session: Session, promotion_id: int) -> Promotion:
    return promotions_service.get_promotion(session, promotion_id)


def submit(session: Session, promotion_id: int, actor: str, timing: dict[str, Any]) -> Submitted:
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
    actor: str = SYSTEM,
    data: dict[str, Any] | None = None,
) -> str:
    """Move the promotion to `target` (the state machine refuses illegal moves)."""
    promotion = _promotion(session, promotion_id)
    if promotion.status != target:
        promotions_service.transition(session, promotion, target, reason, actor, data)
    return str(target)  # a plain string in the checkpoint, never a pickled enum


def validate(session: Session, promotion_id: int) -> Validated:
    """Run the validation rules; blocking findings reject the revision with their messages."""
    promotion = _promotion(session, promotion_id)
    findings = validate_promotion(session, promotion, today=utcnow().date())
    blocking = [f.message for f in findings if f.severity == BLOCKING]
    if blocking:
        more = f" (+{len(blocking) - 3} more)" if len(blocking) > 3 else ""
        promotions_service.transition(
            session,
            promotion,
            PromotionState.REJECTED,
            "validation failed: " + "; ".join(blocking[:3]) + more,
            data={"blocking_findings": len(blocking)},
        )
    else:
        promotions_service.transition(
            session,
            promotion,
            PromotionState.VALIDATED,
            f"{plural(len(findings), 'finding')}, none blocking",
            data={"warnings": len(findings)},
        )
    return {"blocking": blocking, "warnings": len(findings) - len(blocking)}


def assess(session: Session, promotion_id: int) -> Assessment:
    """Forecast demand over the window and record the assessment (in one transaction).

    Kept for revisions that passed this point before forecasting moved out of the
    write transaction (see `steps.forecast_demand` and the FORECAST patch marker).
    """
    promotion = _promotion(session, promotion_id)
    summary = forecast_promotion(session, promotion, champion_forecaster(session))
    return record_assessment(session, promotion_id, cast(ForecastTotals, asdict(summary)))


def record_assessment(session: Session, promotion_id: int, summary: ForecastTotals) -> Assessment:
    """Move to assessed with the stored forecast's totals."""
    promotion = _promotion(session, promotion_id)
    data: Assessment = {
        "baseline_units": round(summary["baseline_units"], 1),
        "promoted_units": round(summary["promoted_units"], 1),
        "uplift_pct": round(summary["uplift_pct"], 1),
        "model_version": summary["model_version"],
    }
    promotions_service.transition(
        session,
        promotion,
        PromotionState.ASSESSED,
        f"forecast {summary['promoted_units']:,.0f} units ({summary['uplift_pct']:+.0f} % vs "
        "baseline)",
        data=dict(data),
    )
    return data


def evaluate_gates(session: Session, promotion_id: int) -> GateRound:
    """Evaluate every launch gate and store the round with its evidence."""
    promotion = _promotion(session, promotion_id)
    policy = load_gate_policy(get_runtime().settings.policy_path("gates.yaml"))
    # Read before the gates evaluate, so a PO called overdue here is overdue to them too.
    now = utcnow()
    gate_round = gates_service.evaluate_promotion_gates(session, promotion, policy)
    if not gate_round.launch_ready:
        promotion.status_reason = "blocked at launch gates: " + ", ".join(gate_round.failing)
    elif promotion.status == PromotionState.SCHEDULED:
        # Stale otherwise: the last round's block would still be the reason shown.
        promotion.status_reason = (
            f"every blocking gate passed; waiting for the launch date ({promotion.start_date})"
        )
    overdue = repo.overdue_acknowledgements(session, promotion_id, now)
    return {
        "ready": gate_round.launch_ready,
        "failing": list(gate_round.failing),
        "evaluation": gate_round.evaluation,
        "overdue_acks": overdue,
    }


def analyse(session: Session, promotion_id: int, actuals: Actuals) -> Analysis:
    """Compare what sold with what was forecast and record the post-event analysis."""
    promotion = _promotion(session, promotion_id)
    baseline, promoted = repo.forecast_totals(session, promotion_id, promotion.revision)
    low, high = repo.forecast_interval_totals(session, promotion_id, promotion.revision)
    sold = _sold_in_scope(session, promotion, actuals.get("lines", []))
    accuracy = _record_accuracy(session, promotion, sold)
    units = actuals["units"]
    funding = float(promotion.vendor_funding_per_unit) * units
    left_units, left_value = _left_from_allocation(session, promotion, sold)
    data: Analysis = {
        "actual_units": round(units, 1),
        "forecast_units": round(promoted, 1),
        "baseline_units": round(baseline, 1),
        "forecast_error_pct": round(100 * (promoted - units) / units, 1) if units else None,
        "realised_lift_pct": round(100 * (units / baseline - 1), 1) if baseline else None,
        "revenue": round(actuals["revenue"], 2),
        "margin": round(actuals["revenue"] - actuals["cost"] + funding, 2),
        "vendor_funding": round(funding, 2),
        "forecast_p10_units": round(low, 1),
        "forecast_p90_units": round(high, 1),
        "planned_margin": round(repo.planned_margin(session, promotion_id, promotion.revision), 2),
        "allocated_units_left": round(left_units, 1),
        "markdown_exposure": round(left_value, 2),
        **accuracy,
    }
    promotions_service.transition(
        session,
        promotion,
        PromotionState.ANALYSED,
        f"sold {units:,.0f} units vs {promoted:,.0f} forecast",
        data=dict(data),
    )
    return data


SoldInScope = list[tuple[int, int, float]]  # item_id, location_id, units


def _sold_in_scope(session: Session, promotion: Promotion, lines: list[SoldLine]) -> SoldInScope:
    """The sales lines of the promotion's items at its locations, by id."""
    items = {item.sku: item.id for item in repo.scope_items(session, promotion.id)}
    stores = {loc.code: loc.id for loc in repo.scope_locations(session, promotion.id)}
    return [
        (items[sku], stores[code], float(units))
        for sku, code, units in lines
        if sku in items and code in stores
    ]


def _left_from_allocation(
    session: Session, promotion: Promotion, sold: SoldInScope
) -> tuple[float, float]:
    """(units, value at cost) of what the allocation sent that the event did not sell."""
    sent = repo.allocated_stock(session, promotion.id, promotion.revision)
    if not sent:
        return 0.0, 0.0
    by_line: dict[tuple[int, int], float] = {}
    for item_id, location_id, units in sold:
        by_line[(item_id, location_id)] = by_line.get((item_id, location_id), 0.0) + units
    costs = repo.unit_costs(session, sorted({item for item, *_ in sent}))
    return left_from_allocation(sent, by_line, costs)


class _Accuracy(TypedDict, total=False):
    forecast_model: str
    forecast_wape: float | None
    within_p10_p90_share: float | None


def _record_accuracy(session: Session, promotion: Promotion, lines: SoldInScope) -> _Accuracy:
    """Post-event accuracy of the revision's forecast per item x store, kept per model."""
    sold = pl.DataFrame(
        lines,
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
    session: Session, promotion_id: int, channel: str, receipts: list[Receipt]
) -> None:
    publications_service.mark_published(
        session,
        _promotion(session, promotion_id),
        channel,
        [PublicationReceipt(**receipt) for receipt in receipts],
    )

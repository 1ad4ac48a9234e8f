"""One promotion: timeline, gates with evidence, forecast, risk, recommendations, results.

Reads through the lifecycle's report (the same story the demo's panels and the
JSON report tell) and the console's read models; recommendation decisions go
through lifecycle.commands, as POST /api/v1/recommendations/{id}/accept does.
"""

from __future__ import annotations

import math
import re
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Form, Path, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse, Response
from starlette.datastructures import FormData

from promoflow.api import deps
from promoflow.console import service as console
from promoflow.console.schemas import ForecastPoint, ForecastSeries, StockoutHeatmap
from promoflow.gates import service as gates_service
from promoflow.identity.sessions import SignedIn
from promoflow.kit.bounds import MAX_UNITS
from promoflow.kit.clock import utcnow
from promoflow.kit.db import reading
from promoflow.kit.errors import InvalidInput
from promoflow.lifecycle import commands, report
from promoflow.promotions import service as promotions_service
from promoflow.recommendations import service as recommendations_service
from promoflow.web import charts
from promoflow.web.access import Mirror, PromotionsReader, allowed
from promoflow.web.templating import render

router = APIRouter()

REF_PATTERN = r"^[A-Za-z0-9._-]+$"
Ref = Annotated[str, Path(max_length=40, pattern=REF_PATTERN)]
RecommendationDecider = Annotated[
    SignedIn, Mirror("POST /recommendations/{recommendation_id}/accept")
]
STORE_CHARTS = 12  # per-store charts drawn; the table has every store
DECIDE = "POST /recommendations/{recommendation_id}/accept"


def _story(ref: str, user: SignedIn, currency: str) -> dict[str, Any]:
    with reading(deps.read_sessions()) as session:
        promotion = promotions_service.find_promotion(session, ref, banners=user.principal.banners)
        story = report.promotion_report(session, promotion, currency=currency)
        for step in story["timeline"]:
            step["time_at"] = datetime.fromisoformat(step["time"]) if step["time"] else None
        story["items"] = [
            {
                "sku": item.sku,
                "name": item.name,
                "promo_price": line.promo_price,
                "regular_price": item.regular_price,
            }
            for line, item in promotions_service.scope_items(session, promotion.id)
        ]
        story["stores"] = [
            {"code": place.code, "region": place.region, "banner": place.banner}
            for place in promotions_service.scope_locations(session, promotion.id)
        ]
        story["lines"] = {
            row["id"]: recommendations_service.recommendation_lines(session, row["id"])
            for row in story["recommendations"]
        }
        story["promotion"] = promotion
        story["gate_rows"] = gates_service.latest_gate_results(
            session, promotion.id, promotion.revision
        )
        banners = user.principal.banners
        story["events"] = console.promotion_timeline(session, promotion.id, banners).entries
        series = console.forecast_series(session, promotion.id, banners)
        story["forecast"] = _forecast(series) if series.total else None
        story["heatmap"] = _heatmap(
            console.stockout_heatmap(session, promotion.id, banners, now=utcnow())
        )
    return story


def _points(points: list[ForecastPoint]) -> list[charts.ForecastPoint]:
    return [
        charts.ForecastPoint(
            week=point.week_start,
            baseline=point.baseline,
            forecast=point.promoted,
            p10=point.p10,
            p90=point.p90,
        )
        for point in points
    ]


def _forecast(series: ForecastSeries) -> dict[str, Any]:
    """The whole promotion's chart, one per store (the first 12), and the table's rows."""
    return {
        "figure": charts.forecast_figure(_points(series.total), "All stores"),
        "stores": [
            {
                "code": store.location_code,
                "region": store.region,
                "figure": charts.forecast_figure(
                    _points(store.points), f"{store.location_code} ({store.region})"
                ),
            }
            for store in series.stores[:STORE_CHARTS]
        ],
        "more_stores": max(len(series.stores) - STORE_CHARTS, 0),
        "rows": series.total,
        "models": series.model_versions,
    }


def _heatmap(heat: StockoutHeatmap) -> dict[str, Any] | None:
    if heat.problem or not heat.cells:
        return None
    found = {(cell.region, cell.category): cell.max_probability for cell in heat.cells}
    values = [
        [found.get((region, category)) for category in heat.categories] for region in heat.regions
    ]
    return {
        "figure": charts.heatmap_figure(heat.regions, heat.categories, values),
        "cells": heat.cells,
    }


@router.get("/promotions/{ref}")
def promotion_page(request: Request, ref: Ref, user: PromotionsReader) -> Response:
    """Everything about one promotion, for the person deciding or following it."""
    story = _story(ref, user, request.app.state.currency)
    return render(
        request,
        "promotion.html",
        user=user,
        section="Promotions",
        story=story,
        may_decide=allowed(request, user.principal, DECIDE),
        due_of=_due_of,
    )


def _due_of(detail: dict[str, object]) -> datetime | None:
    """An event's due time (an approval request's), for showing in the reader's zone."""
    raw = detail.get("due_at")
    try:
        return datetime.fromisoformat(raw) if isinstance(raw, str) else None
    except ValueError:
        return None


@router.post("/recommendations/{recommendation_id}/decision")
async def decide_recommendation(
    request: Request,
    recommendation_id: Annotated[int, Path(ge=1, le=2**62)],
    user: RecommendationDecider,
    decision: Annotated[Literal["accept", "edit", "reject"], Form()],
    ref: Annotated[str, Form(max_length=40, pattern=REF_PATTERN)],
    reason: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    """Accept, edit (quantities per line: fields `line-<id>`) or reject a recommendation."""
    changes: dict[int, float] = {}
    if decision == "edit":
        form = await request.form()
        changes = await run_in_threadpool(_edited_lines, recommendation_id, form)
    try:
        await run_in_threadpool(
            commands.decide_recommendation,
            recommendation_id,
            decision,
            user.principal.name,
            user.principal.role,
            reason=reason,
            changes=changes or None,
        )
    except InvalidInput as refused:
        raise _in_form_terms(refused) from None
    return RedirectResponse(f"/promotions/{ref}#recommendations", status_code=303)


def _edited_lines(recommendation_id: int, form: FormData) -> dict[int, float]:
    """The lines whose units the planner changed (the form sends every line's units)."""
    with reading(deps.read_sessions()) as session:
        proposed = {
            line.id: line.quantity_proposed
            for line in recommendations_service.recommendation_lines(session, recommendation_id)
        }
    changes: dict[int, float] = {}
    for field, raw in form.items():
        if not field.startswith("line-") or not isinstance(raw, str):
            continue
        line_id = field.removeprefix("line-")
        if not line_id.isascii() or not line_id.isdigit() or len(line_id) > 18:
            raise InvalidInput(field, raw, f"not a line of recommendation {recommendation_id}")
        units = _units(field, raw)
        if units != proposed.get(int(line_id)):  # an unknown line is the service's refusal
            changes[int(line_id)] = units
    if not changes:
        raise InvalidInput("lines", "", "change at least one line's units to edit, or accept")
    return changes


def _units(field: str, raw: str) -> int:
    try:
        units = float(raw)
    except ValueError:
        raise InvalidInput(field, raw, "enter a whole number of units") from None
    if not math.isfinite(units) or not units.is_integer() or not 0 <= units <= MAX_UNITS:
        raise InvalidInput(field, raw, f"enter a whole number of units from 0 to {MAX_UNITS:,.0f}")
    return int(units)


def _in_form_terms(refused: InvalidInput) -> InvalidInput:
    """The service names an edit's lines as the API's body does (`changes[7]`); the form's
    field is `line-7`, and all lines together are `lines`."""
    value = refused.value
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # units as typed: 120, not 120.0
    found = re.fullmatch(r"changes\[(\d+)\]", refused.field)
    if found:
        return InvalidInput(f"line-{found.group(1)}", value, refused.reason)
    if refused.field == "changes":
        return InvalidInput("lines", value, refused.reason)
    return refused

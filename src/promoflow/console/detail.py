"""A promotion's detail page: its timeline, forecast by week and store, stockout heatmap."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, datetime, timedelta
from typing import Any

import polars as pl
from sqlalchemy.orm import Session

from promoflow.console import repository
from promoflow.console.context import ref_of, visible_promotion
from promoflow.console.schemas import (
    ForecastPoint,
    ForecastSeries,
    HeatCell,
    StockoutHeatmap,
    StoreForecast,
    Timeline,
    TimelineEntry,
)
from promoflow.events.log import TYPE_PREFIX
from promoflow.gates.inputs import load_gate_inputs
from promoflow.gates.models import GateResult
from promoflow.gates.policy import GatePolicy, load_gate_policy
from promoflow.gates.schemas import GateStatus
from promoflow.gates.stock import assess
from promoflow.identity.schemas import BannerScope

Data = dict[str, Any]


def _text(detail: Data, key: str, default: str = "") -> str:
    value = detail.get(key)
    return default if value is None else str(value)


def _state(kind: str, data: Data, actor: str) -> str:
    reason = _text(data, "reason")
    moved = f"{_text(data, 'from', '?')} -> {_text(data, 'to', kind.split('.')[-1])}"
    return f"{moved}: {reason}" if reason else moved


def _gate_round(kind: str, data: Data, actor: str) -> str:
    head = f"gate round {_text(data, 'evaluation')} of revision {_text(data, 'revision')}"
    failing = data.get("failing") or []
    if data.get("launch_ready"):
        return f"{head}: every blocking gate passed"
    return f"{head}: blocked by {', '.join(str(gate) for gate in failing)}"


SUMMARIES: dict[str, Callable[[str, Data, str], str]] = {
    "promotion.created": lambda k, d, a: f"created by {a}",
    "promotion.revised": lambda k, d, a: f"revision {_text(d, 'revision')} opened by {a}",
    "gate.evaluated": _gate_round,
    "gate.waived": lambda k, d, a: (
        f"gate {_text(d, 'gate')} waived by {a} ({_text(d, 'role')}): {_text(d, 'reason')}"
    ),
    # The due time stays in `detail` (due_at): a page shows it in its reader's zone.
    "approval.requested": lambda k, d, a: f"{_text(d, 'role')} approval requested",
    "approval.decided": lambda k, d, a: (
        f"{_text(d, 'role')} approval {_text(d, 'decision')} by {a}"
        + (f": {_text(d, 'comment')}" if d.get("comment") else "")
    ),
    "approval.escalated": lambda k, d, a: (
        f"{_text(d, 'role')} approval escalated to {_text(d, 'to_role')}"
    ),
    "approval.expired": lambda k, d, a: f"{_text(d, 'role')} approval expired",
    "publication.attempted": lambda k, d, a: (
        f"{_text(d, 'channel')} publication attempt: {_text(d, 'outcome')}"
        + (f" ({_text(d, 'detail')})" if d.get("detail") else "")
    ),
    "publication.published": lambda k, d, a: (
        f"published to {_text(d, 'channel')}: {_text(d, 'prices')} prices"
    ),
    "exception.opened": lambda k, d, a: (
        f"case #{_text(d, 'case_id')} opened ({_text(d, 'kind')}): {_text(d, 'title')}"
    ),
    "exception.resolved": lambda k, d, a: (
        f"case #{_text(d, 'case_id')} closed by {a}: {_text(d, 'resolution')}"
        + (f" ({_text(d, 'reason')})" if d.get("reason") else "")
    ),
}


def _summary(kind: str, data: Data, actor: str) -> str:
    if kind in SUMMARIES:
        return SUMMARIES[kind](kind, data, actor)
    if kind.startswith("promotion."):
        return _state(kind, data, actor)
    return kind.replace("_", " ").replace(".", " ")


def _failing_evidence(results: Sequence[GateResult]) -> dict[tuple[int, int], list[Data]]:
    """Per (revision, round): each gate that failed, with its summary, score and threshold."""
    found: dict[tuple[int, int], list[Data]] = {}
    for result in results:
        if result.status == GateStatus.FAIL:
            found.setdefault((result.revision, result.evaluation), []).append(
                {
                    "gate": result.gate,
                    "blocking": result.blocking,
                    "score": result.score,
                    "threshold": result.threshold,
                    "summary": result.summary,
                }
            )
    return found


def promotion_timeline(session: Session, ref: int | str, banners: BannerScope) -> Timeline:
    """Every event of the promotion (by id or code) in order: each gate round (a block
    and its clearing both), approval decisions with comment and actor, publications
    per channel, cases opened and closed, state changes."""
    promotion = visible_promotion(session, ref, banners)
    evidence = _failing_evidence(repository.gate_results(session, promotion.id))
    entries = []
    for event in repository.events(session, promotion.id):
        kind = event.type.removeprefix(TYPE_PREFIX)
        detail: Data = dict(event.data)
        if kind == "gate.evaluated":
            key = (int(detail.get("revision") or 0), int(detail.get("evaluation") or 0))
            detail["failed"] = evidence.get(key, [])
        entries.append(
            TimelineEntry(
                at=event.time,
                kind=kind,
                actor=event.actor,
                summary=_summary(kind, detail, event.actor),
                detail=detail,
            )
        )
    return Timeline(promotion=ref_of(promotion), entries=entries)


def _weeks(start: date, end: date) -> list[tuple[date, float]]:
    """The Monday of each ISO week the window touches, and its share of the window's days."""
    days = (end - start).days + 1
    monday = start - timedelta(days=start.weekday())
    found = []
    while monday <= end:
        first, last = max(monday, start), min(monday + timedelta(days=6), end)
        found.append((monday, ((last - first).days + 1) / days))
        monday += timedelta(weeks=1)
    return found


def _points(weeks: list[tuple[date, float]], totals: Sequence[float]) -> list[ForecastPoint]:
    baseline, promoted, p10, p50, p80, p90 = (float(value or 0.0) for value in totals)
    return [
        ForecastPoint(
            week=f"{monday.isocalendar()[0]}-W{monday.isocalendar()[1]:02d}",
            week_start=monday,
            baseline=round(baseline * share, 2),
            promoted=round(promoted * share, 2),
            p10=round(p10 * share, 2),
            p50=round(p50 * share, 2),
            p80=round(p80 * share, 2),
            p90=round(p90 * share, 2),
        )
        for monday, share in weeks
    ]


def forecast_series(session: Session, ref: int | str, banners: BannerScope) -> ForecastSeries:
    """Baseline, promoted and P10-P90 of the current revision per ISO week, in all
    and per store (see schemas.ForecastSeries for how a week's share is taken)."""
    promotion = visible_promotion(session, ref, banners)
    weeks = _weeks(promotion.start_date, promotion.end_date)
    stores = repository.forecast_by_store(session, promotion.id, promotion.revision)
    total = [sum(float(row[i] or 0.0) for row in stores) for i in range(2, 8)]
    return ForecastSeries(
        promotion=ref_of(promotion),
        revision=promotion.revision,
        model_versions=repository.forecast_models(session, promotion.id, promotion.revision),
        total=_points(weeks, total) if stores else [],
        stores=[
            StoreForecast(location_code=row[0], region=row[1], points=_points(weeks, row[2:]))
            for row in stores
        ],
    )


def stockout_heatmap(
    session: Session,
    ref: int | str,
    banners: BannerScope,
    *,
    now: datetime,
    policy: GatePolicy | None = None,
) -> StockoutHeatmap:
    """Region x category: the max and mean stockout probability of the item-locations,
    by the stockout gate's own risk model on today's stock."""
    promotion = visible_promotion(session, ref, banners)
    policy = policy or load_gate_policy()
    inputs = load_gate_inputs(
        session,
        promotion,
        quantile=policy.gates.inventory_coverage.quantile,
        as_of=now,
        history_days=policy.gates.supplier_commitments.history_days,
    )
    risk = assess(inputs)
    if risk.rows is None:
        return StockoutHeatmap(
            promotion=ref_of(promotion), regions=[], categories=[], cells=[], problem=risk.problem
        )
    grouped = (
        risk.rows.select("item_id", "location_id", "stockout_probability")
        .join(inputs.items.select("item_id", "category"), on="item_id", how="left")
        .join(inputs.locations.select("location_id", "region"), on="location_id", how="left")
        .group_by("region", "category")
        .agg(
            pl.len().alias("n"),
            pl.col("stockout_probability").max().alias("max"),
            pl.col("stockout_probability").mean().alias("mean"),
        )
        .sort("region", "category")
    )
    cells = [
        HeatCell(
            region=row["region"] or "",
            category=row["category"] or "",
            item_locations=int(row["n"]),
            max_probability=round(float(row["max"]), 4),
            mean_probability=round(float(row["mean"]), 4),
        )
        for row in grouped.iter_rows(named=True)
    ]
    return StockoutHeatmap(
        promotion=ref_of(promotion),
        regions=sorted({cell.region for cell in cells}),
        categories=sorted({cell.category for cell in cells}),
        cells=cells,
        problem=None,
    )

"""The ROI scorecard as the CLI and the API ask for it: figures per period, and their events."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import polars as pl
from sqlalchemy.orm import Session

from promoflow.analytics import repository
from promoflow.analytics.schemas import AnalyticsFilter
from promoflow.analytics.scorecard import FIGURES, Figure, ScorecardLog
from promoflow.analytics.service import load
from promoflow.kit.errors import InvalidInput, NotFound

PERIODS = {"week": "1w", "month": "1mo"}
DRILL_PATH = "/api/v1/analytics/scorecard/{}"


def check_period(period: str) -> str:
    """The period, or InvalidInput naming it."""
    if period not in PERIODS:
        raise InvalidInput("period", period, f"unknown period; known: {', '.join(PERIODS)}")
    return period


def check_figure(name: str) -> Figure:
    """The figure called `name`, or InvalidInput listing the ones there are."""
    if name not in FIGURES:
        raise InvalidInput("figure", name, f"unknown figure; known: {', '.join(FIGURES)}")
    return FIGURES[name]


def load_scorecard(
    session: Session, selection: AnalyticsFilter, now: datetime | None = None
) -> ScorecardLog:
    """The selected promotions' log and their (and the connections') scored events."""
    process = load(session, selection, now)
    calls = repository.scorecard_events(session, selection)
    if selection.since is not None:
        calls = calls.filter(pl.col("time") >= selection.since)
    if selection.until is not None:
        calls = calls.filter(pl.col("time") < selection.until)
    stockouts = repository.stockout_weeks(session, selection)
    return ScorecardLog(process=process, calls=calls, stockouts=stockouts)


def _labelled(rows: pl.DataFrame, period: str) -> pl.DataFrame:
    start = pl.col("time").dt.truncate(PERIODS[period])
    label = start.dt.strftime("%Y-%m") if period == "month" else start.dt.strftime("%Y-%m-%d")
    return rows.with_columns(label.alias("period"))


def _value(figure: Figure) -> pl.Expr:
    numerator, denominator = pl.col("numerator"), pl.col("denominator")
    ratio = pl.when(denominator > 0).then(numerator / denominator)
    if figure.value == "count":
        return numerator.cast(pl.Int64).alias("value")
    if figure.value == "accuracy":
        return (1 - ratio).round(4).alias("value")
    return ratio.round(4).alias("value")


def _summed(rows: pl.DataFrame, keys: list[str], figure: Figure) -> list[dict[str, Any]]:
    if rows.is_empty():
        return []
    table = rows.group_by(keys).agg(
        pl.col("numerator").sum().round(4),
        # A count has no denominator: its rows carry none.
        (
            pl.col("denominator").sum().round(4)
            if figure.value != "count"
            else pl.lit(None, pl.Float64).alias("denominator")
        ),
        pl.col("sequences").list.len().sum().alias("events"),
        pl.len().alias("counted"),
    )
    table = table.with_columns(_value(figure)).sort(keys)
    return table.select(*keys, "value", "numerator", "denominator", "counted", "events").to_dicts()


def _figure(figure: Figure, rows: pl.DataFrame, period: str) -> dict[str, Any]:
    group = ["group"] if figure.grouped_by else []
    labelled = _labelled(rows, period)
    totals = _summed(rows.with_columns(pl.lit("all").alias("period")), ["period", *group], figure)
    return {
        "figure": figure.name,
        "about": figure.about,
        "unit": figure.unit,
        "grouped_by": figure.grouped_by,
        "total": [{k: v for k, v in row.items() if k != "period"} for row in totals],
        "periods": _summed(labelled, ["period", *group], figure),
        "drill": DRILL_PATH.format(figure.name),
    }


def scorecard(loaded: ScorecardLog, period: str) -> dict[str, Any]:
    """Every figure, in total and per period, with what it is made of and where its events are."""
    check_period(period)
    figures = [_figure(figure, figure.rows(loaded), period) for figure in FIGURES.values()]
    return {
        "report": "scorecard",
        "filter": loaded.process.selection.as_dict(),
        "period": period,
        "figures": figures,
    }


def drill(session: Session, loaded: ScorecardLog, name: str, period: str) -> dict[str, Any]:
    """The rows one figure counted, each with the logged events (ids, types) behind it."""
    figure = check_figure(name)
    check_period(period)
    rows = _labelled(figure.rows(loaded), period).sort("time", "case")
    sequences = sorted({s for listed in rows["sequences"].to_list() for s in listed or []})
    events = repository.event_identities(session, sequences)
    counted = [
        {
            "period": row["period"],
            "group": row["group"],
            "case": row["case"],
            "numerator": row["numerator"],
            "denominator": row["denominator"],
            "note": row["note"],
            "events": [events[s] for s in row["sequences"] or [] if s in events],
        }
        for row in rows.iter_rows(named=True)
    ]
    return {
        "report": "scorecard",
        "figure": figure.name,
        "about": figure.about,
        "grouped_by": figure.grouped_by,
        "filter": loaded.process.selection.as_dict(),
        "period": period,
        "counted": counted,
    }


def report(
    session: Session, selection: AnalyticsFilter, period: str, now: datetime | None = None
) -> dict[str, Any]:
    """Load the log for `selection` and score it per `period` (week or month)."""
    check_period(period)
    return scorecard(load_scorecard(session, selection, now), period)


def drill_report(
    session: Session,
    selection: AnalyticsFilter,
    name: str,
    period: str,
    now: datetime | None = None,
) -> dict[str, Any]:
    """Load the log for `selection` and list what figure `name` counted (NotFound if none)."""
    if name not in FIGURES:
        raise NotFound(f"no scorecard figure {name!r}; known: {', '.join(FIGURES)}")
    check_figure(name)
    check_period(period)
    return drill(session, load_scorecard(session, selection, now), name, period)

"""The ROI scorecard's figures, each as the events it counts (one row per thing counted).

Every figure is built the same way: one row per thing it counts (a revision, a
task, a call), with that row's numerator and denominator and the log sequence
numbers of the events behind it. The scorecard sums those rows per period (and
group); the drill-down lists them. So a figure and its drill-down cannot disagree.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import polars as pl

from promoflow.analytics.latency import approval_tasks
from promoflow.analytics.log import CASE, ProcessLog, case_label, hours
from promoflow.events.log import TYPE_PREFIX
from promoflow.exceptions.schemas import CaseAction
from promoflow.promotions.states import PromotionState as S

# Whoever is not the machine is a person: people sign their events with their name.
MACHINE_ACTORS = ("system",)
ANALYSED = f"promotion.{S.ANALYSED.value}"
FINAL_TRANSITIONS = [f"promotion.{s.value}" for s in (S.CLOSED, S.REJECTED, S.CANCELLED)]
# A channel call that reached the channel; `failed` did not.
CALL_SUCCEEDED = ("applied", "duplicate")
CONTRIBUTION_SCHEMA: dict[str, pl.DataType] = {
    "time": pl.Datetime("us", "UTC"),
    "group": pl.String(),
    "case": pl.String(),
    "numerator": pl.Float64(),
    "denominator": pl.Float64(),
    "sequences": pl.List(pl.Int64()),
    "note": pl.String(),
}
ValueKind = Literal["mean", "share", "count", "accuracy"]


@dataclass(frozen=True)
class ScorecardLog:
    """What the figures count: the process log, the further events they read (forecast
    scores, calls, analyses) and the sales history's stockout weeks."""

    process: ProcessLog
    calls: pl.DataFrame
    stockouts: pl.DataFrame  # repository.STOCKOUT_SCHEMA


@dataclass(frozen=True)
class Figure:
    """One scorecard figure: what it says, how its value follows from its rows."""

    name: str
    about: str
    unit: str
    value: ValueKind
    grouped_by: str | None
    rows: Callable[[ScorecardLog], pl.DataFrame]


def _shaped(frame: pl.DataFrame) -> pl.DataFrame:
    """The contribution columns in their order and types (absent ones null)."""
    columns = [
        (pl.col(name) if name in frame.columns else pl.lit(None)).cast(dtype).alias(name)
        for name, dtype in CONTRIBUTION_SCHEMA.items()
    ]
    return frame.select(columns) if frame.height else pl.DataFrame(schema=CONTRIBUTION_SCHEMA)


def _is(activity: str) -> pl.Expr:
    return pl.col("activity") == activity


def cycle_time(loaded: ScorecardLog) -> pl.DataFrame:
    """Each finished revision: hours from its first event to its final state."""
    log = loaded.process
    ended = pl.col("activity").is_in(FINAL_TRANSITIONS)
    cases = log.events.group_by(CASE).agg(
        pl.col("code").first(),
        pl.col("seconds_per_hour").first(),
        pl.col("time").min().alias("start"),
        pl.col("sequence").min().alias("first"),
        pl.col("time").filter(ended).min().alias("end"),
        pl.col("sequence").filter(ended).min().alias("last"),
        pl.col("to_state").filter(ended).first().alias("note"),
    )
    finished = cases.filter(pl.col("end").is_not_null())
    return _shaped(
        finished.with_columns(
            case_label(),
            pl.col("end").alias("time"),
            hours(pl.col("start"), pl.col("end")).alias("numerator"),
            pl.lit(1.0).alias("denominator"),
            pl.concat_list("first", "last").alias("sequences"),
        )
    )


def approval_latency(loaded: ScorecardLog) -> pl.DataFrame:
    """Each decided approval task: hours from its request to its decision, by role."""
    log = loaded.process
    tasks = approval_tasks(log).filter(pl.col("decided_at").is_not_null())
    task_events = (
        log.events.filter(
            pl.col("task_id").is_not_null()
            & pl.col("activity").is_in(["approval.requested", "approval.decided"])
        )
        .group_by("task_id")
        .agg(pl.col("sequence").sort().alias("sequences"))
    )
    return _shaped(
        tasks.join(task_events, on="task_id", how="left").with_columns(
            case_label(),
            pl.col("decided_at").alias("time"),
            pl.col("role").alias("group"),
            pl.col("latency_hours").alias("numerator"),
            pl.lit(1.0).alias("denominator"),
            pl.col("decision").alias("note"),
        )
    )


def _waived_cases(calls: pl.DataFrame) -> pl.Series:
    """The sequences of exception cases resolved by waiving what they were about."""
    resolution = pl.col("data").str.json_path_match("$.resolution")
    resolved = pl.col("type") == TYPE_PREFIX + "exception.resolved"
    return calls.filter(resolved & (resolution == str(CaseAction.WAIVE)))["sequence"]


def launched_fully_ready(loaded: ScorecardLog) -> pl.DataFrame:
    """Each launch: 1 when nothing was waived to let it go live (gate, case, channel), else 0."""
    log, calls = loaded.process, loaded.calls
    events = log.events.with_columns(
        pl.col("time").filter(_is("promotion.live")).min().over(CASE).alias("live_at")
    ).filter(pl.col("live_at").is_not_null())
    before_live = pl.col("time") <= pl.col("live_at")
    waiver = (
        pl.when(_is("gate.waived"))
        .then(pl.format("{} gate", pl.col("gate")))
        .when(pl.col("sequence").is_in(_waived_cases(calls).implode()))
        .then(pl.format("{} case", pl.col("kind")))
        .when(_is("publication.skipped"))
        .then(pl.lit("a channel"))
    )
    launches = (
        events.with_columns(pl.when(before_live).then(waiver).alias("waived"))
        .group_by(CASE)
        .agg(
            pl.col("code").first(),
            pl.col("live_at").first().alias("time"),
            pl.col("sequence").filter(_is("promotion.live")).min().alias("live"),
            pl.col("sequence").filter(pl.col("waived").is_not_null()).alias("waivers"),
            pl.col("waived").drop_nulls().unique().sort().alias("what"),
        )
    )
    ready = pl.col("waivers").list.len() == 0
    return _shaped(
        launches.with_columns(
            case_label(),
            ready.cast(pl.Float64).alias("numerator"),
            pl.lit(1.0).alias("denominator"),
            pl.concat_list(pl.col("live"), pl.col("waivers")).alias("sequences"),
            pl.when(ready)
            .then(pl.lit("fully ready"))
            .otherwise(pl.format("waived: {}", pl.col("what").list.join(", ")))
            .alias("note"),
        )
    )


def _cases_of(log: ProcessLog, calls: pl.DataFrame) -> pl.DataFrame:
    """`calls` that belong to a selected revision, with its code and revision label."""
    revision = pl.col("data").str.json_path_match("$.revision").cast(pl.Int64, strict=False)
    cases = log.events.select(*CASE, "code").unique(CASE)
    return (
        calls.filter(pl.col("promotion_id").is_not_null())
        .with_columns(revision.fill_null(1).alias("revision"))
        .join(cases, on=CASE, how="inner")
        .with_columns(case_label())
    )


def forecast_accuracy(loaded: ScorecardLog) -> pl.DataFrame:
    """Each closed revision's forecast against what sold, by model: 1 - WAPE."""
    log, calls = loaded.process, loaded.calls
    scored = _cases_of(
        log, calls.filter(pl.col("type") == TYPE_PREFIX + "forecast.accuracy_recorded")
    )
    member = pl.col("data").str.json_path_match
    forecast = member("$.forecast_units").cast(pl.Float64, strict=False)
    actual = member("$.actual_units").cast(pl.Float64, strict=False)
    return _shaped(
        scored.with_columns(
            member("$.model_version").alias("group"),
            (forecast - actual).abs().alias("numerator"),
            actual.alias("denominator"),
            pl.concat_list("sequence").alias("sequences"),
            pl.format("forecast {} units, sold {}", forecast.round(1), actual.round(1)).alias(
                "note"
            ),
        )
    )


def exceptions_by_type(loaded: ScorecardLog) -> pl.DataFrame:
    """Each exception case opened on a selected promotion, by kind."""
    log = loaded.process
    opened = log.events.filter(_is("exception.opened"))
    return _shaped(
        opened.with_columns(
            case_label(),
            pl.col("kind").alias("group"),
            pl.lit(1.0).alias("numerator"),
            pl.concat_list("sequence").alias("sequences"),
            pl.format("case {}", pl.col("case_id")).alias("note"),
        )
    )


def integration_reliability(loaded: ScorecardLog) -> pl.DataFrame:
    """Each call through a connector: 1 when it got through, 0 when it failed for good."""
    log, calls = loaded.process, loaded.calls
    member = pl.col("data").str.json_path_match
    channel_calls = _cases_of(
        log, calls.filter(pl.col("type") == TYPE_PREFIX + "publication.attempted")
    ).with_columns(
        member("$.channel").alias("group"),
        member("$.outcome").is_in(CALL_SUCCEEDED).cast(pl.Float64).alias("numerator"),
        member("$.outcome").alias("note"),
    )
    synced = calls.filter(
        pl.col("type") == TYPE_PREFIX + "integration.sync.completed"
    ).with_columns(
        member("$.connection").alias("group"),
        pl.lit(1.0).alias("numerator"),
        pl.format("{} synced", member("$.capability")).alias("note"),
    )
    lost = calls.filter(
        pl.col("type").is_in(
            [
                TYPE_PREFIX + "integration.dead_letter.recorded",
                TYPE_PREFIX + "integration.quarantine.recorded",
            ]
        )
    ).with_columns(
        member("$.source").alias("group"),
        pl.lit(0.0).alias("numerator"),
        pl.format(
            "{}: {}",
            pl.col("type").str.strip_prefix(TYPE_PREFIX + "integration."),
            member("$.operation"),
        ).alias("note"),
    )
    parts = [
        _shaped(
            part.with_columns(
                pl.lit(1.0).alias("denominator"), pl.concat_list("sequence").alias("sequences")
            )
        )
        for part in (channel_calls, synced, lost)
    ]
    return pl.concat(parts)


def manual_touches(loaded: ScorecardLog) -> pl.DataFrame:
    """Each revision: how many of its events a person signed (decisions, edits, case actions)."""
    log = loaded.process
    by_person = ~pl.col("actor").is_in(MACHINE_ACTORS)
    cases = log.events.group_by(CASE).agg(
        pl.col("code").first(),
        pl.col("time").min(),
        pl.col("sequence").filter(by_person).alias("sequences"),
        pl.col("actor").filter(by_person).unique().sort().alias("people"),
    )
    return _shaped(
        cases.with_columns(
            case_label(),
            pl.col("sequences").list.len().cast(pl.Float64).alias("numerator"),
            pl.lit(1.0).alias("denominator"),
            pl.col("people").list.join(", ").alias("note"),
        )
    )


def _analyses(loaded: ScorecardLog) -> pl.DataFrame:
    """Each selected revision's post-event analysis (its `promotion.analysed` event)."""
    analysed = loaded.calls.filter(pl.col("type") == TYPE_PREFIX + ANALYSED)
    return _cases_of(loaded.process, analysed).with_columns(
        pl.concat_list("sequence").alias("sequences")
    )


def _amount(path: str) -> pl.Expr:
    return pl.col("data").str.json_path_match(path).cast(pl.Float64, strict=False)


def margin_vs_plan(loaded: ScorecardLog) -> pl.DataFrame:
    """Each analysed revision: the margin it earned over the margin its forecast planned."""
    margin, planned = _amount("$.margin"), _amount("$.planned_margin")
    analysed = _analyses(loaded).with_columns(margin.alias("margin"), planned.alias("planned"))
    return _shaped(
        # Analyses from before the plan was recorded have none to compare with.
        analysed.filter(pl.col("planned").is_not_null()).with_columns(
            pl.col("margin").alias("numerator"),
            pl.col("planned").alias("denominator"),
            pl.format(
                "margin {} against {} planned",
                pl.col("margin").round(2),
                pl.col("planned").round(2),
            ).alias("note"),
        )
    )


def markdown_exposure(loaded: ScorecardLog) -> pl.DataFrame:
    """Each analysed revision: what its allocation sent to stores and did not sell, at cost."""
    value, units = _amount("$.markdown_exposure"), _amount("$.allocated_units_left")
    analysed = _analyses(loaded).with_columns(value.alias("value"), units.alias("units"))
    return _shaped(
        analysed.filter(pl.col("value").is_not_null()).with_columns(
            pl.col("value").alias("numerator"),
            pl.lit(1.0).alias("denominator"),
            pl.format("{} allocated units left unsold", pl.col("units").round(1)).alias("note"),
        )
    )


def stockout_rate(loaded: ScorecardLog) -> pl.DataFrame:
    """Each item and week of the sales history: store-weeks stocked out, in promotion or not."""
    return _shaped(
        loaded.stockouts.with_columns(
            pl.lit([], pl.List(pl.Int64)).alias("sequences"),
            pl.format(
                "{} of {} store-weeks stocked out", pl.col("numerator"), pl.col("denominator")
            ).alias("note"),
        )
    )


FIGURES: dict[str, Figure] = {
    figure.name: figure
    for figure in (
        Figure(
            "cycle_time",
            "Hours from a revision's first event to its final state (closed, rejected, cancelled).",
            "hours per revision",
            "mean",
            None,
            cycle_time,
        ),
        Figure(
            "approval_latency",
            "Hours from an approval request to its decision.",
            "hours per decision",
            "mean",
            "role",
            approval_latency,
        ),
        Figure(
            "launched_fully_ready",
            "Share of launches with every gate passed: no gate waived, no channel skipped.",
            "share of launches",
            "share",
            None,
            launched_fully_ready,
        ),
        Figure(
            "forecast_accuracy",
            "1 - WAPE: one minus absolute forecast error over units sold, at close.",
            "share",
            "accuracy",
            "model",
            forecast_accuracy,
        ),
        Figure(
            "exceptions_by_type",
            "Exception cases opened on the promotions, per kind.",
            "cases",
            "count",
            "kind",
            exceptions_by_type,
        ),
        Figure(
            "integration_reliability",
            "Share of calls through each connector that got through (channel publications, "
            "syncs) rather than failing or ending as a dead letter or quarantined payload.",
            "share of calls",
            "share",
            "connector",
            integration_reliability,
        ),
        Figure(
            "stockout_rate",
            "Share of item x store weeks of the sales history that stocked out, in "
            "promotion weeks against other weeks (the weekly sales history the forecasts "
            "learn from; the mechanic filter narrows the promotion weeks).",
            "share of store-weeks",
            "share",
            "promotion",
            stockout_rate,
        ),
        Figure(
            "markdown_exposure",
            "What the allocation sent to stores and the event did not sell, valued at unit "
            "cost: the stock a promotion leaves to clear (sales draw first on what a store "
            "already held).",
            "amount at cost per analysed revision",
            "mean",
            None,
            markdown_exposure,
        ),
        Figure(
            "margin_vs_plan",
            "Margin earned (revenue - cost + vendor funding) over the margin the forecast "
            "planned (promoted units x (promo price - unit cost + funding per unit)).",
            "share of planned margin",
            "share",
            None,
            margin_vs_plan,
        ),
        Figure(
            "manual_touches",
            "Events a person signed per revision: submissions, edits, decisions, waivers, "
            "case actions.",
            "touches per revision",
            "mean",
            None,
            manual_touches,
        ),
    )
}

"""The event log as process-mining cases: one case per promotion revision, in hours."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import polars as pl

from promoflow.analytics.schemas import AnalyticsFilter
from promoflow.events.log import TYPE_PREFIX
from promoflow.lifecycle.timing import HOUR
from promoflow.promotions.states import ALLOWED

# Lifecycle transitions are the events named after the state they enter.
TRANSITIONS = tuple(sorted({f"promotion.{state}" for state in ALLOWED}))
CASE = ("promotion_id", "revision")


@dataclass(frozen=True)
class ProcessLog:
    """The selected cases' events (sorted by case, then log order) and the time they end at."""

    events: pl.DataFrame
    now: datetime
    selection: AnalyticsFilter

    @property
    def transitions(self) -> pl.DataFrame:
        """Only the lifecycle transitions, with the state each entered."""
        return self.events.filter(pl.col("activity").is_in(TRANSITIONS))


DATA_MEMBERS = pl.Struct(
    {
        "revision": pl.Int64(),
        "from": pl.String(),
        "to": pl.String(),
        "role": pl.String(),
        "decision": pl.String(),
        "task_id": pl.Int64(),
        "case_id": pl.Int64(),
        "kind": pl.String(),
        "gate": pl.String(),
        "due_at": pl.String(),
        "failing": pl.List(pl.String()),
    }
)


def _promotion_frame(promotions: pl.DataFrame) -> pl.DataFrame:
    # One business hour lasts `seconds_per_business_hour` of wall clock (3,600 s on the
    # real clock, a fraction of a second in the demo): every duration is read in those.
    timing = pl.col("timing").fill_null("{}")
    return promotions.select(
        "promotion_id",
        "code",
        "category",
        "mechanic",
        (
            timing.str.json_path_match("$.seconds_per_business_hour")
            .cast(pl.Float64)
            .fill_null(HOUR)
            .alias("seconds_per_hour")
        ),
        (
            timing.str.json_path_match("$.launch_at")
            .str.to_datetime(time_zone="UTC", time_unit="us", strict=False)
            .alias("launch_at")
        ),
    )


def build(
    raw_events: pl.DataFrame,
    promotions: pl.DataFrame,
    selection: AnalyticsFilter,
    now: datetime,
) -> ProcessLog:
    """Cases from raw event rows and promotion rows, limited to the selection's period."""
    events = (
        raw_events.with_columns(
            pl.col("type").str.strip_prefix(TYPE_PREFIX).alias("activity"),
            # One parse per event, of only the members the analytics read.
            pl.col("data").str.json_decode(DATA_MEMBERS).alias("members"),
        )
        .unnest("members")
        .rename({"from": "from_state", "to": "to_state"})
        .with_columns(
            pl.col("due_at").str.to_datetime(time_zone="UTC", time_unit="us", strict=False),
            # A transition's type names the state it entered: that, not a data member,
            # is the step (they agree unless someone edited one of them).
            pl.when(pl.col("activity").is_in(TRANSITIONS))
            .then(pl.col("activity").str.strip_prefix("promotion."))
            .otherwise(pl.col("to_state"))
            .alias("to_state"),
        )
        .drop("data", "type")
        .sort("promotion_id", "sequence")
        # Events that name no revision (creation, exception cases) belong to the one open.
        .with_columns(
            pl.col("revision").forward_fill().over("promotion_id").fill_null(1),
        )
        .join(_promotion_frame(promotions), on="promotion_id", how="inner")
    )
    events = events.with_columns(pl.col("time").min().over(CASE).alias("case_start"))
    if selection.since is not None:
        events = events.filter(pl.col("case_start") >= selection.since)
    if selection.until is not None:
        events = events.filter(pl.col("case_start") < selection.until)
    return ProcessLog(events=events, now=now, selection=selection)


def hours(start: pl.Expr, end: pl.Expr) -> pl.Expr:
    """Business hours from `start` to `end`, on each promotion's clock."""
    return (end - start).dt.total_microseconds() / 1e6 / pl.col("seconds_per_hour")


def case_label() -> pl.Expr:
    """`CODE r2`: how a person names a revision."""
    return pl.format("{} r{}", pl.col("code"), pl.col("revision")).alias("case")


def summary_stats(column: str) -> list[pl.Expr]:
    """Mean, median, 90th percentile and max of a duration column, in hours."""
    col = pl.col(column)
    return [
        col.mean().round(2).alias("mean_hours"),
        col.median().round(2).alias("median_hours"),
        col.quantile(0.9, "linear").round(2).alias("p90_hours"),
        col.max().round(2).alias("max_hours"),
    ]

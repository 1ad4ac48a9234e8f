"""How promotions flow: the directly-follows graph and the lifecycle variants."""

from __future__ import annotations

from typing import Any

import polars as pl

from promoflow.analytics.log import CASE, ProcessLog, hours, summary_stats

END = "(end)"
START = "(start)"


def directly_follows(log: ProcessLog) -> list[dict[str, Any]]:
    """Each pair of activities one directly after the other in a case: count and duration."""
    events = log.events.select(*CASE, "time", "activity", "seconds_per_hour")
    if events.is_empty():
        return []
    steps = events.with_columns(
        pl.col("activity").shift(1).over(CASE).fill_null(START).alias("source"),
        pl.col("time").shift(1).over(CASE).alias("previous_time"),
    ).with_columns(hours(pl.col("previous_time"), pl.col("time")).alias("hours"))
    ends = (
        events.group_by(CASE)
        .agg(pl.col("activity").last().alias("source"))
        .select("source", pl.lit(END).alias("activity"), pl.lit(None, pl.Float64).alias("hours"))
    )
    edges = pl.concat([steps.select("source", "activity", "hours"), ends])
    graph = (
        edges.group_by("source", "activity")
        .agg(pl.len().alias("count"), *summary_stats("hours"))
        .rename({"activity": "target"})
        .sort(["count", "source", "target"], descending=[True, False, False])
    )
    return graph.to_dicts()


def variants(log: ProcessLog, limit: int = 50) -> dict[str, Any]:
    """The distinct paths through the lifecycle's states, most frequent first."""
    moves = log.transitions
    if moves.is_empty():
        return {"cases": 0, "variants": []}
    cases = (
        moves.group_by(CASE, maintain_order=True)
        .agg(
            pl.col("to_state").alias("path"),
            pl.col("code").first(),
            hours(pl.col("time").min(), pl.col("time").max()).first().alias("hours"),
        )
        .with_columns(pl.col("path").list.join(" → ").alias("variant"))
    )
    total = cases.height
    ranked = (
        cases.group_by("variant")
        .agg(
            pl.len().alias("cases"),
            pl.col("hours").mean().round(2).alias("mean_cycle_hours"),
            pl.format("{} r{}", pl.col("code"), pl.col("revision")).head(3).alias("examples"),
        )
        .with_columns((pl.col("cases") / total).round(4).alias("share"))
        .sort(["cases", "variant"], descending=[True, False])
    )
    return {"cases": total, "variants": ranked.head(limit).to_dicts()}


def activity_counts(log: ProcessLog) -> list[dict[str, Any]]:
    """How often each activity happened and in how many cases."""
    counted = log.events.group_by("activity").agg(
        pl.len().alias("events"), pl.struct(*CASE).n_unique().alias("cases")
    )
    return counted.sort(["events", "activity"], descending=[True, False]).to_dicts()

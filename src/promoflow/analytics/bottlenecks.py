"""What holds promotions up, ranked: approval roles, launch gates and exception cases.

Each wait is charged to what it waited on: an approval task to its role, a gate
round that failed to every blocking gate that failed in it (until the next round or
the next lifecycle move), an exception case to its kind until it was resolved.
"""

from __future__ import annotations

from typing import Any

import polars as pl

from promoflow.analytics.latency import approval_tasks
from promoflow.analytics.log import CASE, TRANSITIONS, ProcessLog, case_label, hours
from promoflow.exceptions.schemas import CaseKind

WAIT_COLUMNS = ("kind", "name", "promotion_id", "revision", "code", "hours")


def gate_waits(log: ProcessLog) -> pl.DataFrame:
    """Hours each revision waited on each failing blocking gate."""
    rounds = log.events.filter(pl.col("activity").is_in(["gate.evaluated", *TRANSITIONS])).select(
        *CASE, "code", "time", "activity", "failing", "seconds_per_hour"
    )
    rounds = rounds.with_columns(pl.col("time").shift(-1).over(CASE).alias("next_time")).filter(
        (pl.col("activity") == "gate.evaluated") & (pl.col("failing").list.len() > 0)
    )
    waits = rounds.with_columns(
        hours(pl.col("time"), pl.col("next_time").fill_null(pl.lit(log.now))).alias("hours")
    ).explode("failing")
    return (
        waits.group_by(*CASE, "code", pl.col("failing").alias("name"))
        .agg(pl.col("hours").sum(), pl.len().alias("failed_rounds"))
        .with_columns(pl.lit("gate").alias("kind"))
    )


def _approval_waits(log: ProcessLog) -> pl.DataFrame:
    tasks = approval_tasks(log)
    return tasks.select(
        pl.lit("approval").alias("kind"),
        pl.col("role").alias("name"),
        *CASE,
        "code",
        pl.col("waited_hours").alias("hours"),
    )


def _exception_waits(log: ProcessLog) -> pl.DataFrame:
    # Only cases that held a launch count (those opened before the revision went live);
    # an overdue approval's wait is already its role's.
    live = (
        log.events.filter(pl.col("to_state") == "live")
        .group_by(CASE)
        .agg(pl.col("time").min().alias("live_at"))
    )
    cases = (
        log.events.filter(pl.col("case_id").is_not_null())
        .group_by("case_id")
        .agg(
            *[pl.col(c).first() for c in (*CASE, "code", "seconds_per_hour")],
            pl.col("kind").filter(pl.col("activity") == "exception.opened").first(),
            pl.col("time").filter(pl.col("activity") == "exception.opened").first().alias("opened"),
            pl.col("time")
            .filter(pl.col("activity") == "exception.resolved")
            .first()
            .alias("closed"),
        )
    )
    cases = cases.join(live, on=CASE, how="left").filter(
        pl.col("opened").is_not_null()
        & (pl.col("kind") != CaseKind.APPROVAL_OVERDUE.value)
        & (pl.col("live_at").is_null() | (pl.col("opened") < pl.col("live_at")))
    )
    return cases.select(
        pl.lit("exception").alias("kind"),
        pl.col("kind").alias("name"),
        *CASE,
        "code",
        hours(pl.col("opened"), pl.col("closed").fill_null(pl.lit(log.now))).alias("hours"),
    )


def all_waits(log: ProcessLog) -> pl.DataFrame:
    """Every wait, one row per revision and what it waited on."""
    parts = [
        _approval_waits(log).select(WAIT_COLUMNS),
        gate_waits(log).select(WAIT_COLUMNS),
        _exception_waits(log).select(WAIT_COLUMNS),
    ]
    return pl.concat(parts, how="vertical_relaxed")


def ranking(log: ProcessLog, limit: int = 20) -> list[dict[str, Any]]:
    """Approval roles, gates and exception kinds by the hours promotions waited on them."""
    waits = all_waits(log)
    if waits.is_empty():
        return []
    ranked = (
        waits.group_by("kind", "name")
        .agg(
            pl.struct(*CASE).n_unique().alias("cases"),
            pl.len().alias("waits"),
            pl.col("hours").sum().round(2).alias("total_hours"),
            pl.col("hours").mean().round(2).alias("mean_hours"),
            pl.col("hours").max().round(2).alias("max_hours"),
            pl.struct("code", "revision", "hours")
            .sort_by("hours", descending=True)
            .first()
            .struct.field("code")
            .alias("longest_wait_in"),
        )
        .sort(["total_hours", "kind", "name"], descending=[True, False, False])
        .with_row_index("rank", offset=1)
    )
    return ranked.head(limit).to_dicts()


def blocked_launches(log: ProcessLog) -> list[dict[str, Any]]:
    """Per revision held at its launch gates: which gates held it and for how long."""
    waits = gate_waits(log)
    if waits.is_empty():
        return []
    table = (
        waits.sort(["hours", "name"], descending=[True, False])
        .group_by(*CASE, "code", maintain_order=True)
        .agg(
            pl.col("hours").max().round(2).alias("blocked_hours"),
            pl.struct(
                pl.col("name").alias("gate"),
                pl.col("hours").round(2),
                "failed_rounds",
            ).alias("gates"),
        )
        .with_columns(case_label())
    )
    return (
        table.sort(["blocked_hours", "case"], descending=[True, False])
        .select("case", "blocked_hours", "gates")
        .to_dicts()
    )

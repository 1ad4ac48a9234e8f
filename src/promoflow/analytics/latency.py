"""Approval latency by role and by approver, and SLA breaches against both deadlines.

Each task has two deadlines: its SLA (`due_at`, from the role's hours) and the
business one, the promotion's planned launch: an approval decided after the launch
moment held the launch back even when it met its own SLA.
"""

from __future__ import annotations

from typing import Any

import polars as pl

from promoflow.analytics.log import CASE, ProcessLog, hours, summary_stats
from promoflow.promotions.states import PromotionState as S

FINAL = [S.CLOSED.value, S.REJECTED.value, S.CANCELLED.value]


def approval_tasks(log: ProcessLog) -> pl.DataFrame:
    """One row per approval task: when requested, decided or given up, by whom, late or not."""
    events = log.events
    requested = (
        events.filter(pl.col("activity") == "approval.requested")
        .select(
            *CASE,
            "code",
            "task_id",
            "role",
            "due_at",
            "launch_at",
            "seconds_per_hour",
            pl.col("time").alias("requested_at"),
        )
        .unique("task_id", keep="first")
    )
    by_task = (
        events.filter(pl.col("task_id").is_not_null())
        .group_by("task_id")
        .agg(
            pl.col("time")
            .filter(pl.col("activity") == "approval.decided")
            .first()
            .alias("decided_at"),
            pl.col("actor")
            .filter(pl.col("activity") == "approval.decided")
            .first()
            .alias("approver"),
            pl.col("decision").filter(pl.col("activity") == "approval.decided").first(),
            pl.col("time")
            .filter(pl.col("activity") == "approval.expired")
            .first()
            .alias("expired_at"),
            (pl.col("activity") == "approval.escalated").any().alias("escalated"),
            (pl.col("activity") == "approval.reminded").any().alias("reminded"),
        )
    )
    # A task left undecided when its revision ended (rejected by another role) stops there.
    case_end = (
        events.filter(pl.col("to_state").is_in(FINAL))
        .group_by(CASE)
        .agg(pl.col("time").min().alias("case_ended_at"))
    )
    tasks = requested.join(by_task, on="task_id", how="left").join(case_end, on=CASE, how="left")
    stopped = pl.coalesce("decided_at", "expired_at", "case_ended_at")
    waited_until = stopped.fill_null(pl.lit(log.now))
    return tasks.with_columns(
        pl.col("escalated").fill_null(False),
        pl.col("reminded").fill_null(False),
        hours(pl.col("requested_at"), pl.col("decided_at")).alias("latency_hours"),
        hours(pl.col("requested_at"), waited_until).alias("waited_hours"),
        stopped.is_null().alias("pending"),
        # Past the SLA: decided late, expired, or still undecided after it.
        (
            pl.col("expired_at").is_not_null()
            | (pl.col("decided_at").fill_null(pl.lit(log.now)) > pl.col("due_at"))
            & (pl.col("decided_at").is_not_null() | stopped.is_null())
        ).alias("sla_breached"),
        (
            pl.col("launch_at").is_not_null()
            & (pl.col("decided_at").fill_null(pl.lit(log.now)) > pl.col("launch_at"))
            & (pl.col("decided_at").is_not_null() | stopped.is_null())
        ).alias("launch_breached"),
    )


def _group(tasks: pl.DataFrame, key: str) -> pl.DataFrame:
    return tasks.group_by(key).agg(
        pl.len().alias("tasks"),
        pl.col("decided_at").is_not_null().sum().alias("decided"),
        pl.col("pending").sum().alias("pending"),
        pl.col("escalated").sum().alias("escalated"),
        *summary_stats("latency_hours"),
        pl.col("waited_hours").mean().round(2).alias("mean_waiting_hours"),
        pl.col("waited_hours").sum().round(2).alias("total_waiting_hours"),
        pl.col("sla_breached").sum().alias("sla_breaches"),
        pl.col("sla_breached").mean().round(4).alias("sla_breach_rate"),
        pl.col("launch_breached").sum().alias("launch_breaches"),
        pl.col("launch_breached").mean().round(4).alias("launch_breach_rate"),
    )


def by_role(log: ProcessLog) -> list[dict[str, Any]]:
    """Per approval role, ranked by mean waiting time (longest first)."""
    tasks = approval_tasks(log)
    if tasks.is_empty():
        return []
    table = _group(tasks, "role").sort(["mean_waiting_hours", "role"], descending=[True, False])
    return table.with_row_index("rank", offset=1).to_dicts()


def by_approver(log: ProcessLog) -> list[dict[str, Any]]:
    """Per person who decided: decisions, approvals, rejections, latency and breaches."""
    tasks = approval_tasks(log).filter(pl.col("approver").is_not_null())
    if tasks.is_empty():
        return []
    table = _group(tasks, "approver").join(
        tasks.group_by("approver").agg(
            (pl.col("decision") == "approved").sum().alias("approved"),
            (pl.col("decision") == "rejected").sum().alias("rejected"),
            pl.col("role").unique().sort().alias("roles"),
        ),
        on="approver",
    )
    return table.sort(["mean_hours", "approver"], descending=[True, False]).to_dicts()


def sla_by_role(log: ProcessLog) -> list[dict[str, Any]]:
    """Per role: how often its tasks broke their SLA and how often the launch date."""
    tasks = approval_tasks(log)
    if tasks.is_empty():
        return []
    table = _group(tasks, "role").select(
        "role",
        "tasks",
        "sla_breaches",
        "sla_breach_rate",
        "launch_breaches",
        "launch_breach_rate",
        "escalated",
    )
    return table.sort(["sla_breach_rate", "role"], descending=[True, False]).to_dicts()

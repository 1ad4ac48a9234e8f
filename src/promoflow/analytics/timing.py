"""Where the time goes: cycle time per stage, waiting against working, launch deadlines."""

from __future__ import annotations

from typing import Any

import polars as pl

from promoflow.analytics.log import CASE, ProcessLog, case_label, hours, summary_stats
from promoflow.promotions.states import PromotionState as S

# A stage is waiting when the promotion sits on people or on the physical world
# (approvers, the launch gates and the launch date, an operator's decision); working
# when promoflow itself is busy with it; in market while it runs.
WAITING_STAGES = (S.IN_APPROVAL, S.SCHEDULED, S.ON_HOLD)
WORKING_STAGES = (
    S.SUBMITTED,
    S.VALIDATED,
    S.ASSESSED,
    S.APPROVED,
    S.PUBLISHING,
    S.ENDED,
    S.ANALYSED,
)
IN_MARKET_STAGES = (S.LIVE,)
FINAL_STAGES = (S.CLOSED, S.REJECTED, S.CANCELLED)


def stage_kind() -> pl.Expr:
    """`waiting`, `working`, `in_market` or `final` for the stage in `stage`."""
    stage = pl.col("stage")
    return (
        pl.when(stage.is_in([str(s) for s in WAITING_STAGES]))
        .then(pl.lit("waiting"))
        .when(stage.is_in([str(s) for s in IN_MARKET_STAGES]))
        .then(pl.lit("in_market"))
        .when(stage.is_in([str(s) for s in FINAL_STAGES]))
        .then(pl.lit("final"))
        .otherwise(pl.lit("working"))
        .alias("kind")
    )


def stage_visits(log: ProcessLog) -> pl.DataFrame:
    """Each stay in a lifecycle state: case, stage, entered, left (null while there), hours."""
    moves = log.transitions.select(*CASE, "code", "time", "to_state", "seconds_per_hour")
    visits = moves.rename({"to_state": "stage", "time": "entered"}).with_columns(
        pl.col("entered").shift(-1).over(CASE).alias("left"), stage_kind()
    )
    # A stay still open is counted up to now, except in a final state, which never ends.
    until = pl.col("left").fill_null(pl.lit(log.now))
    return visits.with_columns(
        pl.when(pl.col("kind") == "final")
        .then(None)
        .otherwise(hours(pl.col("entered"), until))
        .alias("hours"),
        pl.col("left").is_null().alias("open"),
    )


def stages(log: ProcessLog) -> list[dict[str, Any]]:
    """Per lifecycle stage: visits, how long each lasted, and whether it is waiting time."""
    visits = stage_visits(log).filter(pl.col("kind") != "final")
    if visits.is_empty():
        return []
    table = visits.group_by("stage", "kind").agg(
        pl.len().alias("visits"),
        pl.col("open").sum().alias("open"),
        *summary_stats("hours"),
        pl.col("hours").sum().round(2).alias("total_hours"),
    )
    return table.sort(["total_hours", "stage"], descending=[True, False]).to_dicts()


def waiting_and_working(log: ProcessLog) -> dict[str, Any]:
    """Total hours waiting, working and in market, overall and per revision."""
    visits = stage_visits(log).filter(pl.col("kind") != "final")
    if visits.is_empty():
        return {"totals": {}, "cases": []}
    per_case = visits.pivot(
        on="kind", index=[*CASE, "code"], values="hours", aggregate_function="sum"
    )
    for kind in ("waiting", "working", "in_market"):
        if kind not in per_case.columns:
            per_case = per_case.with_columns(pl.lit(0.0).alias(kind))
    per_case = per_case.with_columns(pl.col("waiting", "working", "in_market").fill_null(0.0))
    per_case = per_case.with_columns(
        (pl.col("waiting") / (pl.col("waiting") + pl.col("working")))
        .fill_nan(None)
        .round(4)
        .alias("waiting_share"),
        case_label(),
    ).sort(["waiting", "case"], descending=[True, False])
    waiting, working = float(per_case["waiting"].sum()), float(per_case["working"].sum())
    totals = {
        "waiting_hours": round(waiting, 2),
        "working_hours": round(working, 2),
        "in_market_hours": round(float(per_case["in_market"].sum()), 2),
        "waiting_share": round(waiting / (waiting + working), 4) if waiting + working else None,
    }
    rows = per_case.select(
        "case",
        pl.col("waiting").round(2).alias("waiting_hours"),
        pl.col("working").round(2).alias("working_hours"),
        pl.col("in_market").round(2).alias("in_market_hours"),
        "waiting_share",
    )
    return {"totals": totals, "cases": rows.to_dicts()}


def cycle_times(log: ProcessLog) -> dict[str, Any]:
    """From a revision's first event to its final state (closed, rejected, cancelled)."""
    events = log.events
    if events.is_empty():
        return {"finished": 0, "open": 0}
    ends = (
        events.group_by(CASE)
        .agg(
            pl.col("time").min().alias("start"),
            pl.col("time")
            .filter(pl.col("to_state").is_in([str(s) for s in FINAL_STAGES]))
            .min()
            .alias("end"),
            pl.col("seconds_per_hour").first(),
        )
        .with_columns(hours(pl.col("start"), pl.col("end")).alias("hours"))
    )
    finished = ends.filter(pl.col("end").is_not_null())
    stats = finished.select(*summary_stats("hours")).to_dicts()[0] if finished.height else {}
    return {"finished": finished.height, "open": ends.height - finished.height, **stats}


def launch_deadlines(log: ProcessLog) -> dict[str, Any]:
    """Revisions that went live after their planned launch, or are still short of it."""
    events = log.events
    cases = (
        events.group_by(CASE)
        .agg(
            pl.col("code").first(),
            pl.col("launch_at").first(),
            pl.col("seconds_per_hour").first(),
            pl.col("time").filter(pl.col("to_state") == S.LIVE).min().alias("live_at"),
            pl.col("to_state")
            .is_in([S.REJECTED.value, S.CANCELLED.value])
            .any()
            .alias("withdrawn"),
        )
        # Withdrawn revisions never meant to launch; every other one had a date to meet.
        .filter(pl.col("launch_at").is_not_null() & ~pl.col("withdrawn"))
    )
    reached = pl.col("live_at").fill_null(pl.lit(log.now))
    cases = cases.with_columns(
        (reached > pl.col("launch_at")).alias("late"),
        pl.max_horizontal(hours(pl.col("launch_at"), reached), pl.lit(0.0))
        .round(2)
        .alias("late_hours"),
        pl.col("live_at").is_null().alias("not_live"),
        case_label(),
    )
    due = cases.filter(pl.col("live_at").is_not_null() | (pl.col("launch_at") < log.now))
    late = due.filter(pl.col("late"))
    return {
        "due": due.height,
        "late": late.height,
        "breach_rate": round(late.height / due.height, 4) if due.height else None,
        "late_cases": late.sort("late_hours", descending=True)
        .select("case", "launch_at", "live_at", "late_hours", "not_live")
        .to_dicts(),
    }

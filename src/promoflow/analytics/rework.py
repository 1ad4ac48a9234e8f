"""Rework: promotions submitted again, gates that failed round after round, retried channels."""

from __future__ import annotations

from typing import Any

import polars as pl

from promoflow.analytics.log import CASE, ProcessLog, case_label


def rework(log: ProcessLog) -> dict[str, Any]:
    """Resubmissions per promotion, repeated gate failures and publication retries."""
    events = log.events
    submissions = (
        events.filter(pl.col("activity") == "promotion.submitted")
        .group_by("promotion_id")
        .agg(pl.col("code").first(), pl.len().alias("submissions"), pl.col("revision").max())
        .with_columns((pl.col("submissions") - 1).alias("resubmissions"))
    )
    resubmitted = submissions.filter(pl.col("resubmissions") > 0)
    failing = (
        events.filter(pl.col("activity") == "gate.evaluated")
        .select(*CASE, "code", "failing")
        .explode("failing")
        .drop_nulls("failing")
        .group_by(*CASE, "code", pl.col("failing").alias("gate"))
        .agg(pl.len().alias("failed_rounds"))
    )
    repeated = failing.filter(pl.col("failed_rounds") > 1)
    gates = (
        failing.group_by("gate")
        .agg(
            pl.len().alias("cases_failing"),
            (pl.col("failed_rounds") > 1).sum().alias("cases_failing_repeatedly"),
            pl.col("failed_rounds").sum().alias("failed_rounds"),
        )
        .sort(["failed_rounds", "gate"], descending=[True, False])
    )
    retries = (
        events.filter(pl.col("activity") == "publication.failed")
        .group_by(*CASE, "code")
        .agg(pl.len().alias("failed_publications"))
        .with_columns(case_label())
    )
    promotions = events.select("promotion_id").n_unique()
    return {
        "promotions": promotions,
        "resubmitted": resubmitted.height,
        "resubmission_rate": round(resubmitted.height / promotions, 4) if promotions else None,
        "resubmissions": resubmitted.sort("resubmissions", descending=True)
        .select("code", "submissions", "resubmissions")
        .to_dicts(),
        "gates": gates.to_dicts(),
        "repeated_gate_failures": repeated.with_columns(case_label())
        .sort(["failed_rounds", "case"], descending=[True, False])
        .select("case", "gate", "failed_rounds")
        .to_dicts(),
        "failed_publications": retries.sort("failed_publications", descending=True)
        .select("case", "failed_publications")
        .to_dicts(),
    }

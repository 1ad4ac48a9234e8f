"""The supplier gate: purchase orders acknowledged in time, risky suppliers committed early.

Suppliers are scored from their purchase-order history by `planning.supplier_risk`
(on-time rate, fill rate, lead-time variability, each shrunk towards the pooled history
of every supplier). A received PO whose receipt date is unknown is left out of the
history rather than guessed.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import polars as pl

from promoflow.gates.inputs import GateInputs
from promoflow.gates.policy import GatePolicy, SupplierCommitmentsGate
from promoflow.gates.verdict import STAMP, WORST_ROWS, Verdict, rounded, some
from promoflow.kit.errors import InvalidInput
from promoflow.kit.words import every
from promoflow.planning.supplier_risk import score_suppliers

SCORE_FIGURES = (
    "supplier",
    "risk_score",
    "risk_band",
    "on_time_rate",
    "fill_rate",
    "lead_time_cv",
    "observed_on_time_rate",
    "observed_fill_rate",
    "observed_lead_time_cv",
    "purchase_orders",
    "received_orders",
    "mean_lead_time_days",
)


def supplier_scores(inputs: GateInputs, settings: SupplierCommitmentsGate) -> pl.DataFrame:
    """Risk score, band and the rates behind them for the suppliers of linked POs."""
    history = inputs.supplier_history.filter(
        (pl.col("status") != "received") | pl.col("received_at").is_not_null()
    ).select(
        "supplier_id",
        pl.col("ordered_at").dt.date(),
        "due_date",
        pl.col("received_at").dt.date().alias("received_on"),
        "quantity",
        "received_quantity",
    )
    ours = inputs.purchase_orders.select("supplier_id", "supplier").unique()
    bands = settings.risk_bands
    scored = score_suppliers(
        history,
        as_of=inputs.as_of.date(),
        supplier_ids=ours["supplier_id"].to_list(),
        prior_strength=settings.prior_strength,
        bands=(bands.medium_from, bands.high_from),
    )
    return ours.join(scored, on="supplier_id", how="left").sort("supplier")


def _units_needed(inputs: GateInputs) -> pl.DataFrame:
    """Per item, the units stock on hand and in transit cannot cover (before any PO)."""
    on_shelf = (pl.col("on_hand") + pl.col("in_transit") - pl.col("allocated")).clip(0.0)
    gap = (pl.col("upper_quantile_units") - on_shelf).clip(0.0)
    return inputs.coverage.group_by("item_id").agg(gap.sum().alias("needed"))


def _unknown_receipts(inputs: GateInputs) -> int:
    history = inputs.supplier_history
    return history.filter((pl.col("status") == "received") & pl.col("received_at").is_null()).height


def supplier_commitments(inputs: GateInputs, policy: GatePolicy) -> Verdict:
    """Linked POs acknowledged in time; suppliers in a failing band committed early."""
    settings = policy.gates.supplier_commitments
    lines = inputs.purchase_orders
    if lines.is_empty():
        code = inputs.promotion_code
        none = f"no supplier commitments required: no purchase orders linked to {code}"
        return Verdict(True, 1.0, 1.0, none, {"purchase_orders": 0})
    try:
        scores = supplier_scores(inputs, settings)
    except InvalidInput as error:
        problem = f"supplier history cannot be scored: {error}"
        return Verdict(False, None, 1.0, problem, {"purchase_orders": lines.n_unique("po_number")})
    latest_due = inputs.start - timedelta(days=settings.min_days_before_start)
    per_po = _judge_lines(inputs, scores, settings, latest_due)
    failing = per_po.filter(pl.col("problem").is_not_null())
    n, n_ok = per_po.height, per_po.height - failing.height
    shown = failing.head(WORST_ROWS).select("po_number", "supplier", "problem")
    named = [f"{po} ({sup}): {why}" for po, sup, why in shown.iter_rows()]
    summary = f"{every(n, 'purchase order')} linked to {inputs.promotion_code} acknowledged in time"
    if named:
        summary = f"{n_ok:,} of {n:,} purchase orders committed in time; " + some(
            named, failing.height, "; "
        )
    counts = dict(per_po.group_by("ack_status").len().sort("ack_status").iter_rows())
    evidence: dict[str, Any] = {
        "purchase_orders": n,
        "committed": n_ok,
        "by_ack_status": counts,
        "failing": rounded(failing.head(WORST_ROWS), 4),
        "suppliers": rounded(scores.select(SCORE_FIGURES), 4),
        "failing_bands": list(settings.failing_bands),
        "risky_supplier_due_by": latest_due.isoformat(),
        "history": {
            "since": (inputs.as_of - timedelta(days=settings.history_days)).date().isoformat(),
            "purchase_orders": inputs.supplier_history.height,
            "receipt_date_unknown": _unknown_receipts(inputs),
        },
    }
    return Verdict(failing.is_empty(), round(n_ok / n, 4), 1.0, summary, evidence)


def _judge_lines(
    inputs: GateInputs,
    scores: pl.DataFrame,
    settings: SupplierCommitmentsGate,
    latest_due: date,
) -> pl.DataFrame:
    """One row per PO: supplier, ack status, risk band and the first problem (or null)."""
    status, due, acked = pl.col("ack_status"), pl.col("ack_due_at"), pl.col("acknowledged_at")
    in_time = acked.is_not_null() & (due.is_null() | (acked <= due))
    confirmed = pl.col("confirmed_quantity").fill_null(pl.col("quantity"))
    # Without a forecast the ordered quantity is what the promotion needs.
    needed = (
        pl.col("needed").fill_null(pl.col("item_ordered"))
        if inputs.forecast_available
        else pl.col("item_ordered")
    )
    due_at, acked_at = due.dt.strftime(STAMP), acked.dt.strftime(STAMP)
    risky = pl.col("risk_band").is_in(list(settings.failing_bands))
    early = pl.col("due_date") <= pl.lit(latest_due)
    judged = (
        inputs.purchase_orders.with_columns(
            committed=pl.when(status.is_in(["acknowledged", "partial"]) & in_time)
            .then(confirmed)
            .otherwise(0.0),
        )
        .with_columns(
            item_committed=pl.col("committed").sum().over("item_id"),
            item_ordered=pl.col("quantity").sum().over("item_id"),
        )
        .join(_units_needed(inputs), on="item_id", how="left")
        .join(inputs.items.select("item_id", "sku"), on="item_id", how="left")
        .join(scores.select("supplier_id", "risk_score", "risk_band"), on="supplier_id", how="left")
        .with_columns(needed=needed)
        .with_columns(
            problem=pl.when(status == "rejected")
            .then(pl.lit("rejected by the supplier"))
            .when((status == "pending") & (due.is_null() | (due >= inputs.as_of)))
            .then(pl.format("awaiting acknowledgement (due {})", due_at))
            .when(status == "pending")
            .then(pl.format("acknowledgement overdue since {}", due_at))
            .when(~in_time)
            .then(pl.format("acknowledged late ({}, due {})", acked_at, due_at))
            .when((status == "partial") & (pl.col("item_committed") < pl.col("needed")))
            .then(
                pl.format(
                    "partial: {} of {} units needed for {} confirmed",
                    pl.col("item_committed").round(0).cast(pl.Int64),
                    pl.col("needed").round(0).cast(pl.Int64),
                    "sku",
                )
            )
            .when(risky & ~early)
            .then(
                pl.format(
                    "{} risk supplier (score {}) must deliver by {} ({} days before start); due {}",
                    "risk_band",
                    pl.col("risk_score").round(3),
                    pl.lit(latest_due).dt.strftime("%Y-%m-%d"),
                    pl.lit(settings.min_days_before_start),
                    pl.col("due_date").dt.strftime("%Y-%m-%d"),
                )
            )
        )
    )
    return judged.group_by("po_number", maintain_order=True).agg(
        pl.col("supplier").first(),
        pl.col("ack_status").first(),
        pl.col("due_date").first().cast(pl.String),
        pl.col("risk_band").first(),
        pl.col("problem").drop_nulls().first(),
    )

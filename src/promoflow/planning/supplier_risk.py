"""Supplier risk from purchase-order history: on time, in full, steady lead times.

Evidence per supplier, from its POs (one row per PO; sum the lines first):
- on-time rate: received by the due date, over POs received or already overdue on
  `as_of` (an overdue open PO counts as late; one not yet due is no evidence yet);
- fill rate: units received over units ordered, on received POs (over-delivery counts
  as full, not better);
- lead-time variability: coefficient of variation of actual lead time (received −
  ordered, days) over received POs.

Few POs say little, so each figure is shrunk towards a prior worth `prior_strength`
POs (n0): on-time = (on-time POs + n0·prior) / (judged POs + n0), the mean of the
beta-binomial posterior with a Beta(n0·prior, n0·(1 − prior)) prior; fill rate and
CV the same way, weighted by received POs (a PO is the unit of evidence, so one huge
PO cannot outweigh many) and by their degrees of freedom (n − 1) for the CV. The
priors default to the pooled history of all suppliers given, so a new supplier is
taken to be like the average one.

risk score = (w_late·(1 − on-time) + w_short·(1 − fill) + w_variable·min(CV / 1, 1)) / Σw,
0 reliable … 1 risky; a CV of 1 (lead time as variable as it is long) is the worst.
Bands: low below `bands[0]`, high from `bands[1]`, medium between.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

import polars as pl

from promoflow.kit.errors import InvalidInput
from promoflow.planning.frames import numbers, require_columns

PO_COLUMNS = (
    "supplier_id",
    "ordered_at",  # date or timestamp
    "due_date",
    "received_on",  # null while nothing is received
    "quantity",
    "received_quantity",
)
WHAT = "purchase-order history"
# Priors when there is no history at all to pool.
FALLBACK_PRIOR = (0.90, 0.95, 0.25)  # on-time rate, fill rate, lead-time CV
CV_CEILING = 1.0


@dataclass(frozen=True)
class SupplierRiskWeights:
    """How much lateness, short delivery and erratic lead times weigh in the score."""

    late: float = 0.5
    short: float = 0.3
    variable: float = 0.2


def score_suppliers(
    purchase_orders: pl.DataFrame,
    *,
    as_of: date,
    supplier_ids: Sequence[int] = (),
    prior_strength: float = 10.0,
    prior_on_time_rate: float | None = None,
    prior_fill_rate: float | None = None,
    prior_lead_time_cv: float | None = None,
    weights: SupplierRiskWeights = SupplierRiskWeights(),
    bands: tuple[float, float] = (0.10, 0.25),
) -> pl.DataFrame:
    """Per supplier: observed and shrunk on-time, fill and lead-time CV, risk score and band."""
    _check_parameters(prior_strength, weights, bands)
    for name, rate in (
        ("prior_on_time_rate", prior_on_time_rate),
        ("prior_fill_rate", prior_fill_rate),
    ):
        if rate is not None and not 0 <= rate <= 1:
            raise InvalidInput(name, rate, "a rate between 0 and 1")
    if prior_lead_time_cv is not None and prior_lead_time_cv < 0:
        raise InvalidInput("prior_lead_time_cv", prior_lead_time_cv, "must not be negative")
    pos = _judged(purchase_orders, as_of)
    evidence = _evidence(pos, supplier_ids)
    pooled = _pooled(evidence)
    priors = [
        given if given is not None else fallback
        for given, fallback in zip(
            (prior_on_time_rate, prior_fill_rate, prior_lead_time_cv), pooled, strict=True
        )
    ]
    received = pl.col("received_orders")
    on_time = _shrunk(
        pl.col("purchase_orders"), pl.col("observed_on_time_rate"), priors[0], prior_strength
    )
    fill = _shrunk(received, pl.col("observed_fill_rate"), priors[1], prior_strength)
    dof = (received - 1).clip(lower_bound=0)
    cv = _shrunk(dof, pl.col("observed_lead_time_cv"), priors[2], prior_strength)
    total = weights.late + weights.short + weights.variable
    scored = evidence.with_columns(
        on_time_rate=on_time, fill_rate=fill, lead_time_cv=cv
    ).with_columns(
        risk_score=(
            weights.late * (1 - pl.col("on_time_rate"))
            + weights.short * (1 - pl.col("fill_rate"))
            + weights.variable * (pl.col("lead_time_cv") / CV_CEILING).clip(upper_bound=1.0)
        )
        / total
    )
    return (
        scored.with_columns(
            risk_band=pl.when(pl.col("risk_score") < bands[0])
            .then(pl.lit("low"))
            .when(pl.col("risk_score") < bands[1])
            .then(pl.lit("medium"))
            .otherwise(pl.lit("high"))
        )
        .drop("_on_time")
        .sort("supplier_id")
    )


def _shrunk(evidence: pl.Expr, observed: pl.Expr, prior: float, strength: float) -> pl.Expr:
    """(evidence·observed + strength·prior) / (evidence + strength); the prior if both are 0."""
    weight = evidence.cast(pl.Float64)
    return (
        pl.when(weight + strength > 0)
        .then((weight * observed.fill_null(0.0) + strength * prior) / (weight + strength))
        .otherwise(pl.lit(prior))
    )


def _check_parameters(
    prior_strength: float, weights: SupplierRiskWeights, bands: tuple[float, float]
) -> None:
    if prior_strength < 0:
        raise InvalidInput("prior_strength", prior_strength, "must be 0 or more POs")
    for name in ("late", "short", "variable"):
        if getattr(weights, name) < 0:
            raise InvalidInput(f"weights.{name}", getattr(weights, name), "must not be negative")
    if weights.late + weights.short + weights.variable <= 0:
        raise InvalidInput("weights", weights, "at least one weight must be positive")
    if not 0 <= bands[0] <= bands[1] <= 1:
        raise InvalidInput("bands", bands, "need 0 ≤ low/medium ≤ medium/high ≤ 1")


def _judged(purchase_orders: pl.DataFrame, as_of: date) -> pl.DataFrame:
    """POs that say something on `as_of`, with on-time, fill and lead-time columns."""
    require_columns(purchase_orders, PO_COLUMNS, WHAT)
    numbers(purchase_orders, "quantity", WHAT, key=("supplier_id",), minimum=1e-9)
    numbers(purchase_orders, "received_quantity", WHAT, key=("supplier_id",))
    for column in ("ordered_at", "due_date", "received_on"):
        dtype = purchase_orders.schema[column]
        if not (dtype == pl.Date or isinstance(dtype, pl.Datetime | pl.Null)):
            raise InvalidInput(column, str(dtype), f"the {WHAT} needs a date in {column}")
    pos = purchase_orders.with_columns(
        pl.col("ordered_at", "due_date", "received_on").cast(pl.Date),
        pl.col("quantity", "received_quantity").cast(pl.Float64),
    )
    for column in ("ordered_at", "due_date"):
        if pos[column].null_count():
            row = int(pos[column].is_null().arg_true()[0])
            raise InvalidInput(column, None, f"missing for supplier_id={pos['supplier_id'][row]}")
    early = pos["received_on"] < pos["ordered_at"]
    if early.any():
        row = int(early.arg_true()[0])
        raise InvalidInput(
            "received_on", pos["received_on"][row], "is before the order date; check the PO"
        )
    received = pl.col("received_on").is_not_null()
    return pos.filter(received | (pl.col("due_date") < pl.lit(as_of))).with_columns(
        received=received,
        on_time=received & (pl.col("received_on") <= pl.col("due_date")),
        filled=pl.min_horizontal("received_quantity", "quantity") / pl.col("quantity"),
        lead_time_days=(pl.col("received_on") - pl.col("ordered_at")).dt.total_days(),
    )


def _evidence(pos: pl.DataFrame, supplier_ids: Sequence[int]) -> pl.DataFrame:
    """Observed figures per supplier; suppliers asked for but without POs get zeros."""
    received = pl.col("received")
    lead = pl.col("lead_time_days").filter(received).cast(pl.Float64)
    observed = pos.group_by("supplier_id").agg(
        purchase_orders=pl.len(),
        received_orders=received.sum(),
        _on_time=pl.col("on_time").sum(),
        observed_on_time_rate=pl.col("on_time").mean(),
        observed_fill_rate=(pl.col("quantity") * pl.col("filled")).filter(received).sum()
        / pl.col("quantity").filter(received).sum(),
        mean_lead_time_days=lead.mean(),
        observed_lead_time_cv=pl.when(lead.count() >= 2).then(lead.std() / lead.mean()),
    )
    missing = set(supplier_ids) - set(observed["supplier_id"].to_list())
    if not missing:
        return observed
    empty = pl.DataFrame(
        {"supplier_id": sorted(missing)}, schema={"supplier_id": observed.schema["supplier_id"]}
    ).with_columns(
        purchase_orders=pl.lit(0, dtype=observed.schema["purchase_orders"]),
        received_orders=pl.lit(0, dtype=observed.schema["received_orders"]),
        _on_time=pl.lit(0, dtype=observed.schema["_on_time"]),
    )
    return pl.concat([observed, empty], how="diagonal_relaxed")


def _pooled(evidence: pl.DataFrame) -> tuple[float, float, float]:
    """On-time, fill and CV of all suppliers pooled (the default priors)."""
    judged = float(evidence["purchase_orders"].sum())
    received = evidence["received_orders"].cast(pl.Float64)
    fill = evidence["observed_fill_rate"].fill_null(0.0)
    cvs = evidence["observed_lead_time_cv"].drop_nulls().to_list()
    on_time, fill_rate, cv = FALLBACK_PRIOR
    if judged:
        on_time = float(evidence["_on_time"].sum()) / judged
    if received.sum():
        fill_rate = float((fill * received).sum()) / float(received.sum())
    if cvs:
        cv = float(sorted(cvs)[len(cvs) // 2])
    return on_time, fill_rate, cv

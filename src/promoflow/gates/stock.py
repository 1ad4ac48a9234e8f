"""The stock gates: coverage of the forecast's upper quantile, stockout and overstock risk.

The risk gates use the planning risk model (`planning.risk`): window demand as the count
distribution fitted to the forecast's mean and P10–P90 spread, against the stock
available by the start date. Available stock is worked out here, once, the way the
coverage gate always has (on hand + in transit + purchase orders due before the start −
allocated, never below 0), and handed to the model as the stock on hand, so every stock
gate judges the same units; it also spares the model a negative on-hand figure, which
store systems do report and the model rightly refuses.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import polars as pl

from promoflow.gates.inputs import KEY, GateInputs
from promoflow.gates.policy import GatePolicy
from promoflow.gates.verdict import WORST_ROWS, Verdict, needs, pct, rounded
from promoflow.kit.errors import InvalidInput
from promoflow.planning.risk import assess_stockout_risk, summarise_risk

PROBABILITY_DIGITS = 4


@dataclass(frozen=True)
class StockRisk:
    """Risk model rows aligned with `inputs.coverage` and their roll-ups, or why none.

    roll_ups: summarise_risk frames for the promotion (one row), per region, per category.
    """

    rows: pl.DataFrame | None
    roll_ups: dict[str, pl.DataFrame] = field(default_factory=dict)
    problem: str | None = None


def available_units(coverage: pl.DataFrame) -> np.ndarray:
    """Stock available by the start date per coverage row (never below 0)."""
    stock = coverage.select(
        pl.col("on_hand")
        + pl.col("in_transit")
        + pl.col("on_order_before_start")
        - pl.col("allocated")
    )
    available: np.ndarray = np.clip(stock.to_series().to_numpy(), 0.0, None)
    return available


def window_weeks(inputs: GateInputs) -> float:
    """Length of the promotion window in weeks (both ends count)."""
    return ((inputs.end - inputs.start).days + 1) / 7.0


def assess(inputs: GateInputs) -> StockRisk:
    """Stockout probability, lost and left units, overstock weeks per forecast line."""
    if not inputs.forecast_available:
        return StockRisk(None, problem=_no_forecast(inputs))
    cov = inputs.coverage
    zeros = pl.lit(0.0)
    positions = cov.select(
        *KEY,
        "promoted_units",
        "p10",
        "p90",
        pl.Series("on_hand", available_units(cov)),
        zeros.alias("on_order_due"),
        zeros.alias("allocated"),
        (pl.col("baseline_units") / max(window_weeks(inputs), 1 / 7)).alias(
            "baseline_weekly_units"
        ),
    )
    try:
        rows = assess_stockout_risk(positions)
    except InvalidInput as error:
        return StockRisk(None, problem=f"the forecast cannot be judged: {error}")
    return StockRisk(rows, _roll_ups(rows, inputs))


def _no_forecast(inputs: GateInputs) -> str:
    return f"no forecast for revision {inputs.revision}: run it, then re-evaluate"


def _forecast_models(inputs: GateInputs) -> list[dict[str, Any]]:
    """The model version(s) and inputs hash(es) of the forecast lines judged."""
    return inputs.forecast_models.to_dicts()


def _top(rows: pl.DataFrame, first: str, then: str) -> pl.DataFrame:
    """The WORST_ROWS rows highest by `first`, then `then`, in that order (ties by key)."""
    values = rows[first].to_numpy()
    if len(values) > WORST_ROWS:
        # Only rows at or above the k-th largest value can make the list: a linear
        # partition and a filter instead of ranking a million rows on two columns.
        cut = np.partition(values, len(values) - WORST_ROWS)[len(values) - WORST_ROWS]
        rows = rows.filter(pl.col(first) >= cut)
    return rows.top_k(WORST_ROWS, by=[first, then]).sort(
        [first, then, *KEY], descending=[True, True, False, False]
    )


def _labelled(frame: pl.DataFrame, inputs: GateInputs) -> pl.DataFrame:
    """Add sku, location code, region and category to rows keyed by item and location."""
    return frame.join(
        inputs.items.select("item_id", "sku", "category"), on="item_id", how="left"
    ).join(
        inputs.locations.select("location_id", pl.col("code").alias("location"), "region"),
        on="location_id",
        how="left",
    )


def inventory_coverage(inputs: GateInputs, policy: GatePolicy, risk: StockRisk) -> Verdict:
    """Stock available by the start date against the forecast's upper quantile."""
    settings = policy.gates.inventory_coverage
    quantile, need = inputs.quantile.upper(), settings.min_share_covered
    if not inputs.forecast_available:
        return Verdict(False, None, need, _no_forecast(inputs), {"quantile": inputs.quantile})
    cov = inputs.coverage
    upper = cov["upper_quantile_units"].to_numpy()
    available = available_units(cov)
    # No expected demand counts as covered; keep the ratio finite for the evidence.
    demanded = upper > 0
    ratio = np.divide(available, upper, out=np.full(upper.shape, np.inf), where=demanded)
    covered = ratio >= settings.min_coverage_ratio
    shortfall = np.clip(settings.min_coverage_ratio * upper - available, 0.0, None)
    n, n_covered = len(cov), int(covered.sum())
    share = n_covered / n
    k = min(WORST_ROWS, int(demanded.sum()))
    worst_idx = np.argpartition(ratio, k)[:k] if 0 < k < n else np.flatnonzero(demanded)
    probability = risk.rows["stockout_probability"].to_numpy() if risk.rows is not None else None
    worst = (
        cov[worst_idx.tolist()]
        .with_columns(
            available_units=available[worst_idx],
            coverage_ratio=ratio[worst_idx],
            stockout_probability=(
                probability[worst_idx]
                if probability is not None
                else np.full(len(worst_idx), np.nan)
            ),
        )
        .sort("coverage_ratio")
        .head(WORST_ROWS)
        .join(inputs.items.select("item_id", "sku"), on="item_id", how="left")
        .join(inputs.locations, on="location_id", how="left")
        .select(
            "sku",
            pl.col("code").alias("location"),
            pl.col("upper_quantile_units").alias("upper_units"),
            "available_units",
            "coverage_ratio",
            pl.col("stockout_probability").fill_nan(None),
        )
    )
    short_items = (
        cov.select("item_id")
        .with_columns(shortfall_units=shortfall)
        .filter(pl.col("shortfall_units") > 0)
        .group_by("item_id")
        .agg(pl.col("shortfall_units").sum(), pl.len().alias("item_locations_short"))
        .sort("shortfall_units", descending=True)
        .head(WORST_ROWS)
        .join(inputs.items.select("item_id", "sku"), on="item_id", how="left")
        .select("sku", "shortfall_units", "item_locations_short")
    )
    summary = f"{pct(share)} of {n:,} item-locations covered at {quantile} (needs {needs(need)})"
    if worst.height:
        first = worst.row(0, named=True)
        summary += f"; worst: {first['sku']} @ {first['location']} {first['coverage_ratio']:.2f}x"
    evidence: dict[str, Any] = {
        "quantile": inputs.quantile,
        "min_coverage_ratio": settings.min_coverage_ratio,
        "item_locations": n,
        "covered": n_covered,
        "share_covered": round(share, 4),
        "upper_units": round(float(upper.sum()), 1),
        "available_units": round(float(available.sum()), 1),
        "shortfall_units": round(float(shortfall.sum()), 1),
        "worst": rounded(worst, PROBABILITY_DIGITS),
        "short_items": rounded(short_items),
        "forecast_models": _forecast_models(inputs),
    }
    if probability is not None:
        # The sum of probabilities is the expected number of item-locations out.
        evidence["mean_stockout_probability"] = round(float(probability.mean()), 4)
        evidence["expected_stockouts"] = round(float(probability.sum()), 2)
    else:
        evidence["risk_problem"] = risk.problem
    return Verdict(share >= need, round(share, 4), need, summary, evidence)


ROLL_UP_INPUTS = (
    "promoted_units",
    "stockout_probability",
    "expected_lost_units",
    "expected_left_units",
    "baseline_weekly_units",
)


def _as_enum(frame: pl.DataFrame, key: str, label: str) -> pl.DataFrame:
    """key and label with the label as an Enum: cheaper to join and group a million rows by."""
    values = sorted(frame[label].drop_nulls().unique().to_list())
    return frame.select(key, pl.col(label).cast(pl.Enum(values)))


def _roll_ups(rows: pl.DataFrame, inputs: GateInputs) -> dict[str, pl.DataFrame]:
    """summarise_risk for the promotion, per region and per category."""
    grouped = (
        rows.select(*KEY, *ROLL_UP_INPUTS)
        .join(_as_enum(inputs.locations, "location_id", "region"), on="location_id", how="left")
        .join(_as_enum(inputs.items, "item_id", "category"), on="item_id", how="left")
    )
    return {
        "promotion": summarise_risk(rows),
        "by_region": summarise_risk(grouped, ["region"]),
        "by_category": summarise_risk(grouped, ["category"]),
    }


def _roll_up_evidence(risk: StockRisk, columns: Sequence[str] | None = None) -> dict[str, Any]:
    """The roll-ups as evidence: the promotion's figures and a list per region and category."""
    evidence: dict[str, Any] = {}
    for name, frame in risk.roll_ups.items():
        kept = frame.select(c for c in frame.columns if columns is None or c in columns)
        rows = rounded(kept, PROBABILITY_DIGITS)
        evidence[name] = rows[0] if name == "promotion" else rows
    return evidence


def stockout_risk(inputs: GateInputs, policy: GatePolicy, risk: StockRisk) -> Verdict:
    """The promotion's expected share of demand lost to stockouts against the policy's cap."""
    allowed = policy.gates.stockout_risk.max_share_of_demand_lost
    if risk.rows is None:
        return Verdict(False, None, allowed, risk.problem or "", {})
    total = risk.roll_ups["promotion"].row(0, named=True)
    lost_share = float(total["share_of_demand_at_risk"])
    likeliest = _top(risk.rows, "stockout_probability", "expected_lost_units")
    worst = _labelled(likeliest, inputs).select(
        "sku",
        "location",
        "region",
        "category",
        pl.col("promoted_units").alias("expected_units"),
        "p10",
        "p90",
        "available",
        "stockout_probability",
        "expected_lost_units",
    )
    summary = (
        f"{pct(lost_share)} of expected demand ({total['expected_demand_units']:,.0f} units) "
        f"lost to stockouts (allows {needs(allowed)}); mean stockout probability "
        f"{pct(float(total['mean_stockout_probability']))} over {risk.rows.height:,} "
        "item-locations"
    )
    if worst.height:
        first = worst.row(0, named=True)
        summary += (
            f"; worst: {first['sku']} @ {first['location']} "
            f"{pct(first['stockout_probability'])} chance of running out"
        )
    evidence = {
        "measure": "share_of_demand_lost",
        "max_share_of_demand_lost": allowed,
        **_roll_up_evidence(risk),
        "worst": rounded(worst, PROBABILITY_DIGITS),
        "forecast_models": _forecast_models(inputs),
    }
    return Verdict(lost_share <= allowed, round(lost_share, 4), allowed, summary, evidence)


OVERSTOCK_FIGURES = (
    "region",
    "category",
    "item_locations",
    "expected_left_units",
    "overstock_weeks",
)


def overstock_risk(inputs: GateInputs, policy: GatePolicy, risk: StockRisk) -> Verdict:
    """Weeks of baseline sales the stock left after the window would last, pooled."""
    allowed = policy.gates.overstock_risk.max_weeks_of_supply
    if risk.rows is None:
        return Verdict(False, None, allowed, risk.problem or "", {})
    total = risk.roll_ups["promotion"].row(0, named=True)
    weeks, left = float(total["overstock_weeks"]), float(total["expected_left_units"])
    over = risk.rows["overstock_weeks"] > allowed
    longest = _top(risk.rows, "overstock_weeks", "expected_left_units")
    worst = _labelled(longest, inputs).select(
        "sku",
        "location",
        "region",
        "category",
        "available",
        "expected_left_units",
        "baseline_weekly_units",
        "overstock_weeks",
    )
    summary = (
        f"{left:,.0f} units expected left after the window: {weeks:.1f} weeks of baseline "
        f"sales (allows {allowed:g}); {int(over.sum()):,} of {risk.rows.height:,} "
        f"item-locations above {allowed:g} weeks"
    )
    evidence = {
        "measure": "weeks_of_supply_after_window",
        "max_weeks_of_supply": allowed,
        "window_weeks": round(window_weeks(inputs), 2),
        "item_locations_over": int(over.sum()),
        **_roll_up_evidence(risk, OVERSTOCK_FIGURES),
        "worst": rounded(worst),
        "forecast_models": _forecast_models(inputs),
    }
    return Verdict(weeks <= allowed, round(weeks, 2), allowed, summary, evidence)

"""Stockout and overstock risk per item-location over a promo window, and its roll-ups.

Available stock for the window is on hand + on order due before the window − allocated
(never below 0). Demand over the window is the fitted count distribution of
`planning.demand` (NB, or Poisson where the forecast's spread is at or below Poisson).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import polars as pl

from promoflow.planning.demand import fit_window_demand, stock_outcomes
from promoflow.planning.frames import forecast_spread, numbers, require_columns

KEY = ("item_id", "location_id")
RISK_INPUT_COLUMNS = (
    *KEY,
    "promoted_units",  # mean demand over the window (the forecast line's column)
    "p10",
    "p90",
    "on_hand",
    "on_order_due",  # on order and due before the window starts
    "allocated",
    "baseline_weekly_units",  # the rate stock sells at after the window
)
# A finite stand-in for "never sells" (no baseline rate): sorts, compares and
# serialises, and fails any overstock threshold a policy would set.
NEVER_SELLS_WEEKS = 520.0
WHAT = "stockout risk input"


def assess_stockout_risk(
    positions: pl.DataFrame, *, never_sells_weeks: float = NEVER_SELLS_WEEKS
) -> pl.DataFrame:
    """Add available, stockout_probability, expected_lost/left_units and overstock_weeks."""
    require_columns(positions, RISK_INPUT_COLUMNS, WHAT)
    mean, p10, p90 = forecast_spread(positions, WHAT, KEY)
    on_hand = numbers(positions, "on_hand", WHAT, key=KEY)
    on_order = numbers(positions, "on_order_due", WHAT, key=KEY)
    allocated = numbers(positions, "allocated", WHAT, key=KEY)
    weekly = numbers(positions, "baseline_weekly_units", WHAT, key=KEY)

    available = np.maximum(on_hand + on_order - allocated, 0.0)
    stockout, sales = stock_outcomes(fit_window_demand(mean, p10, p90), available)
    lost = np.maximum(mean - sales, 0.0)
    left = np.maximum(available - sales, 0.0)
    return positions.with_columns(
        pl.Series("available", available),
        pl.Series("stockout_probability", stockout),
        pl.Series("expected_lost_units", lost),
        pl.Series("expected_left_units", left),
        pl.Series("overstock_weeks", weeks_of_cover(left, weekly, never_sells_weeks)),
    )


def weeks_of_cover(units: np.ndarray, weekly_rate: np.ndarray, cap: float) -> np.ndarray:
    """units / weekly_rate, capped; no rate means `cap` if any units are left, else 0."""
    with np.errstate(divide="ignore", invalid="ignore"):
        weeks = np.where(weekly_rate > 0, units / weekly_rate, np.where(units > 0, cap, 0.0))
    return np.minimum(weeks, cap)


def summarise_risk(
    risk: pl.DataFrame, by: Sequence[str] = (), *, never_sells_weeks: float = NEVER_SELLS_WEEKS
) -> pl.DataFrame:
    """Roll `assess_stockout_risk` rows up per group (promotion, region, category...)."""
    require_columns(
        risk,
        [
            *by,
            "promoted_units",
            "stockout_probability",
            "expected_lost_units",
            "expected_left_units",
            "baseline_weekly_units",
        ],
        "stockout risk rows",
    )
    sums = [
        pl.len().alias("item_locations"),
        pl.col("stockout_probability").mean().alias("mean_stockout_probability"),
        pl.col("stockout_probability").max().alias("max_stockout_probability"),
        # The sum of probabilities is the expected number of item-locations out.
        pl.col("stockout_probability").sum().alias("expected_stockouts"),
        pl.col("promoted_units").sum().alias("expected_demand_units"),
        pl.col("expected_lost_units").sum(),
        pl.col("expected_left_units").sum(),
        pl.col("baseline_weekly_units").sum().alias("_weekly"),
    ]
    totals = risk.group_by(list(by)).agg(sums).sort(list(by)) if by else risk.select(sums)
    lost = totals["expected_lost_units"].to_numpy()
    demand = totals["expected_demand_units"].to_numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        at_risk = np.where(demand > 0, lost / demand, 0.0)
    # Pooled left units over pooled weekly sales: the unit-weighted overstock weeks.
    overstock = weeks_of_cover(
        totals["expected_left_units"].to_numpy(), totals["_weekly"].to_numpy(), never_sells_weeks
    )
    return totals.drop("_weekly").with_columns(
        pl.Series("share_of_demand_at_risk", at_risk),
        pl.Series("overstock_weeks", overstock),
    )

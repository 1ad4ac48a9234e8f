"""A synthetic retailer's weekly sales, with everything a real file throws at a backtest.

Items x stores, weekly dates with one week missing from the whole file, a few rows
missing within series, promotions with a known multiplicative lift (and a larger
one with a display), and stockout weeks whose sales were capped.
"""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import polars as pl

PROMO_LIFT = 1.8
DISPLAY_LIFT = 1.3
FIRST_WEEK = date(2024, 1, 1)


def synthetic_sales(
    items: int = 6, stores: int = 5, weeks: int = 80, seed: int = 11
) -> pl.DataFrame:
    """item, store, week (date), units, price, on_promo (bool), display, stockout, region."""
    rng = np.random.default_rng(seed)
    rows: list[dict[str, object]] = []
    missing_week = weeks // 2  # absent from the whole file: a gap in the calendar
    for item in range(1, items + 1):
        regular_price = round(float(rng.uniform(1.5, 6.0)), 2)
        for store in range(1, stores + 1):
            level = float(rng.uniform(4.0, 30.0))
            for week in range(weeks):
                if week == missing_week or rng.random() < 0.02:
                    continue
                on_promo = bool(rng.random() < 0.15)
                display = int(on_promo and rng.random() < 0.5)
                season = 1 + 0.2 * np.sin(2 * np.pi * week / 52)
                mean = level * season * (PROMO_LIFT if on_promo else 1.0)
                mean *= DISPLAY_LIFT if display else 1.0
                units = float(rng.poisson(mean))
                stockout = bool(rng.random() < 0.04)
                rows.append(
                    {
                        "item": f"SKU-{item}",
                        "store": store,
                        "week": FIRST_WEEK + timedelta(weeks=week),
                        "units": float(np.floor(units * 0.4)) if stockout else units,
                        "price": round(regular_price * (0.75 if on_promo else 1.0), 2),
                        "on_promo": on_promo,
                        "display": display,
                        "stockout": stockout,
                        "region": "North" if store % 2 else "South",
                    }
                )
    return pl.DataFrame(rows)


def with_integer_periods(sales: pl.DataFrame) -> pl.DataFrame:
    """The same sales keyed by a week number (1, 2, ...) instead of a date."""
    number = ((pl.col("week") - pl.lit(FIRST_WEEK)).dt.total_days() // 7 + 1).cast(pl.Int64)
    return sales.with_columns(number.alias("week"))

"""The history baseline x lift forecaster on small, hand-checkable histories.

The promotion window is two weeks from Monday 2026-11-16, so a steady 10 units a
week makes a baseline of 20 units; 25 % off with the default table lifts it 1.6x.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import numpy as np
import polars as pl
import pytest

from promoflow.forecasting.base import PromotionScenario
from promoflow.forecasting.baseline import (
    DEFAULT_DISPLAY_LIFT,
    DEFAULT_FEATURE_LIFT,
    MODEL_VERSION,
    HistoryBaselineForecaster,
)

START = date(2026, 11, 16)
SCHEMA = {
    "item_id": pl.Int64,
    "location_id": pl.Int64,
    "week": pl.Date,
    "units": pl.Float64,
    "price": pl.Float64,
    "on_promo": pl.Boolean,
    "mechanic": pl.String,
    "display": pl.Boolean,
    "feature": pl.Boolean,
    "stockout": pl.Boolean,
}


def series(
    item: int,
    location: int,
    units: list[float],
    *,
    promo: frozenset[int] = frozenset(),
    stockout: frozenset[int] = frozenset(),
    mechanic: str = "percent_off",
    promo_price: float = 3.0,
) -> list[dict[str, Any]]:
    """Weekly rows, oldest first, ending the week before START; `promo`/`stockout`
    hold indexes into `units`."""
    first = START - timedelta(weeks=len(units))
    return [
        {
            "item_id": item,
            "location_id": location,
            "week": first + timedelta(weeks=k),
            "units": u,
            "price": promo_price if k in promo else 4.0,
            "on_promo": k in promo,
            "mechanic": mechanic if k in promo else None,
            "display": False,
            "feature": False,
            "stockout": k in stockout,
        }
        for k, u in enumerate(units)
    ]


def history(*rows: list[dict[str, Any]]) -> pl.DataFrame:
    return pl.DataFrame([r for part in rows for r in part], schema=SCHEMA)


def scenario(
    items: list[int],
    locations: list[int],
    *,
    depth: float = 0.25,
    mechanic: str = "percent_off",
    display: bool = False,
    feature: bool = False,
) -> PromotionScenario:
    return PromotionScenario(
        items, locations, START, START + timedelta(days=13), mechanic, depth, display, feature
    )


def one(frame: pl.DataFrame, item: int, location: int) -> dict[str, Any]:
    row: dict[str, Any] = frame.filter(item_id=item, location_id=location).row(0, named=True)
    return row


def test_baseline_uses_only_the_last_13_unpromoted_in_stock_weeks() -> None:
    # Oldest to newest: 5 old weeks of 100, then 13 clean weeks of 10 with 3 promoted
    # weeks (30 units) and 2 stockout weeks (1 unit) in between.
    units = [100.0] * 5 + [10, 10, 30, 10, 1, 10, 10, 30, 10, 10, 1, 10, 30, 10, 10, 10, 10, 10]
    promo = frozenset({7, 12, 17})
    stock = frozenset({9, 15})
    frame = HistoryBaselineForecaster().forecast(
        history(series(1, 1, units, promo=promo, stockout=stock)), scenario([1], [1])
    )
    row = one(frame, 1, 1)
    assert row["baseline_units"] == 20.0  # 10 a week x 2 weeks
    assert row["baseline_source"] == "item_location"


def test_weeks_from_the_start_date_on_are_ignored() -> None:
    rows = series(1, 1, [10.0] * 13)
    rows.append({**rows[-1], "week": START, "units": 1000.0})
    frame = HistoryBaselineForecaster().forecast(history(rows), scenario([1], [1]))
    assert one(frame, 1, 1)["baseline_units"] == 20.0


def test_lift_is_learnt_from_promoted_weeks_at_the_same_mechanic_and_depth() -> None:
    # Three stores, three promoted weeks each at 25 % off selling 15 against a
    # baseline of 10: nine observations, lift 1.5.
    promo = frozenset({3, 7, 11})
    units = [15.0 if k in promo else 10.0 for k in range(16)]
    parts = [series(1, store, units, promo=promo) for store in (1, 2, 3)]
    frame = HistoryBaselineForecaster().forecast(history(*parts), scenario([1], [1, 2, 3]))
    row = one(frame, 1, 2)
    assert row["lift"] == pytest.approx(1.5)
    assert row["lift_source"] == "category"
    assert row["promoted_units"] == pytest.approx(30.0)
    assert row["promoted_units"] > row["baseline_units"]


def test_too_few_or_other_promotions_fall_back_to_the_default_table() -> None:
    promo = frozenset({3, 7, 11})
    units = [15.0 if k in promo else 10.0 for k in range(16)]
    # Nine promoted weeks, but multi-buy: they say nothing about percent off.
    parts = [series(1, s, units, promo=promo, mechanic="multi_buy") for s in (1, 2, 3)]
    frame = HistoryBaselineForecaster().forecast(history(*parts), scenario([1], [1]))
    row = one(frame, 1, 1)
    assert row["lift_source"] == "default_table"
    assert row["lift"] == pytest.approx(1.6)  # 1 + 2.4 x 0.25
    assert row["promoted_units"] == pytest.approx(32.0)


def test_default_lift_rewards_display_and_feature() -> None:
    frame = HistoryBaselineForecaster().forecast(
        history(series(1, 1, [10.0] * 13)), scenario([1], [1], display=True, feature=True)
    )
    expected = 1.6 * DEFAULT_DISPLAY_LIFT * DEFAULT_FEATURE_LIFT
    assert one(frame, 1, 1)["lift"] == pytest.approx(expected)


def test_thin_history_falls_back_to_item_then_category_then_pool() -> None:
    frame = HistoryBaselineForecaster().forecast(
        history(
            series(1, 1, [10.0] * 13),
            # Item 1 at store 2: two in-stock weeks only, the rest stocked out.
            series(1, 2, [10.0] * 13, stockout=frozenset(range(11))),
            series(3, 1, [40.0] * 13),
        ),
        scenario([1, 2, 3, 4, 5], [1, 2]),
        item_categories={1: "snacks", 2: "snacks", 3: "drinks", 4: "drinks"},
    )
    sources = {
        (r["item_id"], r["location_id"]): (r["baseline_source"], r["baseline_units"])
        for r in frame.iter_rows(named=True)
    }
    assert sources[(1, 1)] == ("item_location", 20.0)
    assert sources[(1, 2)] == ("item", 20.0)  # item 1's mean across stores
    assert sources[(3, 2)] == ("item", 80.0)
    assert sources[(2, 1)] == ("category", 20.0)  # new snack: the snacks mean
    assert sources[(4, 1)] == ("category", 80.0)  # new drink: the drinks mean
    # Item 5's category is unknown: the mean over everything given, 15 rows of 10 and 13 of 40.
    assert sources[(5, 1)][0] == "pool"
    assert sources[(5, 1)][1] == pytest.approx(2 * (15 * 10 + 13 * 40) / 28, abs=1e-3)


def test_no_history_at_all_forecasts_zero_honestly() -> None:
    frame = HistoryBaselineForecaster().forecast(history(), scenario([1], [1]))
    row = one(frame, 1, 1)
    assert (row["baseline_units"], row["promoted_units"], row["p90"]) == (0.0, 0.0, 0.0)
    assert row["baseline_source"] == "none"


def test_quantiles_are_ordered_and_widen_with_dispersion() -> None:
    rng = np.random.default_rng(11)
    steady = rng.poisson(10.0, 13).astype(float).tolist()
    lumpy = rng.negative_binomial(1.0, 1.0 / 11.0, 13).astype(float).tolist()  # mean 10
    sparse = [0.0, 1.0, 0.0, 0.0, 2.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0]
    frame = HistoryBaselineForecaster().forecast(
        history(series(1, 1, steady), series(1, 2, lumpy), series(1, 3, sparse)),
        scenario([1], [1, 2, 3]),
    )
    assert frame.filter(
        (pl.col("p10") > pl.col("p50")) | (pl.col("p50") > pl.col("p90")) | (pl.col("p10") < 0)
    ).is_empty()

    def spread(location: int) -> float:
        row = one(frame, 1, location)
        return float((row["p90"] - row["p10"]) / row["promoted_units"])

    assert spread(2) > spread(1)
    assert one(frame, 1, 1)["p90"] > one(frame, 1, 1)["promoted_units"]


def test_one_row_per_item_location_with_the_model_version() -> None:
    forecaster = HistoryBaselineForecaster()
    frame = forecaster.forecast(history(series(1, 1, [10.0] * 13)), scenario([1, 2], [1, 2, 3]))
    assert frame.height == 6
    assert frame.select("item_id", "location_id").is_unique().all()
    assert forecaster.model_version == MODEL_VERSION == "history-baseline-lift-1"

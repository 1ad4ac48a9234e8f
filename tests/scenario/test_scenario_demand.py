"""The demand model's pure functions: the effects a category manager would expect."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import polars as pl
import pytest

from promoflow.scenario import demand
from promoflow.scenario.demand import CategoryDemand, PlannedPromotion

SWEETS = CategoryDemand(
    "Confectionery", elasticity=-2.2, summer_amplitude=-0.1, holiday_amplitude=0.6
)
ICE_CREAM = CategoryDemand(
    "Ice Cream", elasticity=-2.5, summer_amplitude=0.7, holiday_amplitude=0.05
)


def _lift(
    depth: float, mechanic: str = "percent_off", display: bool = False, feature: bool = False
) -> float:
    return float(
        demand.promotion_lift(
            np.array([depth]),
            np.array([demand.mechanic_code(mechanic)]),
            np.array([display]),
            np.array([feature]),
            np.array([-2.0]),
        )[0]
    )


def test_deeper_discounts_lift_more() -> None:
    lifts = [_lift(depth) for depth in (0.1, 0.2, 0.3, 0.5)]
    assert lifts == sorted(lifts)
    assert lifts[0] > 1.0


def test_display_and_feature_add_to_the_lift() -> None:
    plain = _lift(0.25)
    assert _lift(0.25, display=True) > plain
    assert _lift(0.25, feature=True) > plain
    assert _lift(0.25, display=True, feature=True) > max(
        _lift(0.25, display=True), _lift(0.25, feature=True)
    )


def test_mechanics_differ_at_the_same_depth() -> None:
    assert _lift(0.33, "multi_buy") > _lift(0.33, "percent_off") > _lift(0.33, "bundle")


def test_weeks_off_promotion_have_no_lift() -> None:
    lift = demand.promotion_lift(
        np.array([0.3]), np.array([-1]), np.array([True]), np.array([True]), np.array([-2.5])
    )
    assert lift.tolist() == [1.0]


def test_unknown_mechanic_is_named() -> None:
    with pytest.raises(ValueError, match="mechanic='bogof'"):
        demand.mechanic_code("bogof")


def test_seasonality_averages_one_and_peaks_when_shoppers_buy() -> None:
    mondays = np.arange(np.datetime64("2025-01-06"), np.datetime64("2026-01-05"), 7)
    sweets = demand.seasonal_index(mondays, SWEETS)
    ice_cream = demand.seasonal_index(mondays, ICE_CREAM)
    assert abs(float(sweets.mean()) - 1.0) < 0.05
    assert abs(float(ice_cream.mean()) - 1.0) < 0.05
    assert str(mondays[int(np.argmax(sweets))]).startswith("2025-12")
    assert str(mondays[int(np.argmax(ice_cream))])[:7] in {"2025-06", "2025-07", "2025-08"}


def test_censored_sales_never_exceed_the_shelf() -> None:
    rng = np.random.default_rng(1)
    wanted = demand.draw_demand(rng, np.full(10_000, 8.0))
    available = rng.integers(0, 15, size=10_000)
    sold, stockout = demand.censor(wanted, available)
    assert (sold <= available).all()
    assert (sold <= wanted).all()
    assert (stockout == (wanted > available)).all()
    assert (sold[~stockout] == wanted[~stockout]).all()


def test_noisy_demand_is_centred_on_the_expectation_and_overdispersed() -> None:
    draws = demand.draw_demand(np.random.default_rng(2), np.full(50_000, 6.0))
    assert abs(draws.mean() - 6.0) < 0.1
    assert draws.var() > 1.3 * draws.mean()  # negative binomial, not Poisson


def test_under_called_promotions_run_out_more_often() -> None:
    rng = np.random.default_rng(3)
    baseline = np.full(20_000, 5.0)
    cover = np.full(20_000, 2.0)
    minimum = np.full(20_000, 3.0)
    results = {}
    for lift in (1.0, 3.0):
        lifts = np.full(20_000, lift)
        wanted = demand.draw_demand(rng, baseline * lifts)
        shelf = demand.shelf_stock(rng, baseline, lifts, cover, minimum)
        results[lift] = demand.censor(wanted, shelf)[1].mean()
    assert results[3.0] > 2 * results[1.0]


PARAMS = pl.DataFrame(
    {
        "item_id": [1, 1, 2, 3],
        "location_id": [10, 11, 10, 10],
        "category": ["Confectionery"] * 4,
        "base_rate": [10.0, 4.0, 6.0, 2.0],
        "elasticity": [-2.0, -2.0, -2.4, -1.8],
    }
)
WEEKS = (date(2026, 3, 2), date(2026, 3, 9))


def _plan(depth: float, display: bool = False, feature: bool = False) -> pl.DataFrame:
    promotion = PlannedPromotion(
        item_ids=(1, 2),
        location_ids=(10, 11),
        weeks=WEEKS,
        mechanic="percent_off",
        depth=depth,
        display=display,
        feature=feature,
    )
    return demand.expected_demand(PARAMS, {"Confectionery": SWEETS}, promotion)


def test_expected_demand_covers_ranged_pairs_and_the_week_after() -> None:
    plan = _plan(0.25)
    pairs = sorted(set(zip(plan["item_id"], plan["location_id"], strict=True)))
    assert pairs == [(1, 10), (1, 11), (2, 10)]  # item 2 is not ranged at 11
    promo = plan.filter(pl.col("phase") == "promotion")
    post = plan.filter(pl.col("phase") == "post_promotion")
    assert sorted(set(promo["week"])) == list(WEEKS)
    assert set(post["week"]) == {WEEKS[-1] + timedelta(days=7)}
    assert (promo["expected_units"] > promo["baseline_units"]).all()
    assert (post["expected_units"] < post["baseline_units"]).all()


def test_expected_demand_rises_with_depth_and_support() -> None:
    def total(frame: pl.DataFrame) -> float:
        return float(frame.filter(pl.col("phase") == "promotion")["expected_units"].sum())

    assert total(_plan(0.3)) > total(_plan(0.15))
    assert total(_plan(0.2, display=True, feature=True)) > total(_plan(0.2))
    # The baseline does not depend on the promotion.
    assert _plan(0.3)["baseline_units"].to_list() == _plan(0.1)["baseline_units"].to_list()

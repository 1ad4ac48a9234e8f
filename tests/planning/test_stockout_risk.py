"""Stockout and overstock risk per item-location, checked against hand-worked answers."""

from __future__ import annotations

import math

import numpy as np
import polars as pl
import pytest
from scipy import stats

from promoflow.kit.errors import InvalidInput
from promoflow.planning.demand import WindowDemand, fit_window_demand, stock_outcomes
from promoflow.planning.risk import NEVER_SELLS_WEEKS, assess_stockout_risk, summarise_risk

Z90 = float(stats.norm.ppf(0.9))  # the spread P10–P90 is 2·Z90 standard deviations


def positions(**overrides: list[float]) -> pl.DataFrame:
    """One Poisson row by default: mean 2, no spread, 3 on hand + 1 due − 2 allocated."""
    base: dict[str, list[float]] = {
        "item_id": [1],
        "location_id": [10],
        "promoted_units": [2.0],
        "p10": [2.0],
        "p50": [2.0],
        "p90": [2.0],
        "on_hand": [3.0],
        "on_order_due": [1.0],
        "allocated": [2.0],
        "baseline_weekly_units": [0.5],
    }
    base.update(overrides)
    return pl.DataFrame(base)


def nb_spread(mean: float, variance: float) -> tuple[float, float]:
    """P10 and P90 (not below 0) whose spread reads as `variance`."""
    spread = 2 * Z90 * math.sqrt(variance)
    p10 = max(mean - spread / 2, 0.0)
    return p10, p10 + spread


def test_poisson_row_matches_the_hand_calculation() -> None:
    row = assess_stockout_risk(positions()).row(0, named=True)
    # Available 3 + 1 − 2 = 2; D ~ Poisson(2): P(D > 2) = 1 − 5e⁻², E[min(D, 2)] = 2 − 4e⁻².
    e2 = math.exp(-2)
    assert row["available"] == 2.0
    assert row["stockout_probability"] == pytest.approx(1 - 5 * e2, abs=1e-12)
    assert row["expected_lost_units"] == pytest.approx(4 * e2, abs=1e-12)
    assert row["expected_left_units"] == pytest.approx(4 * e2, abs=1e-12)
    assert row["overstock_weeks"] == pytest.approx(4 * e2 / 0.5, abs=1e-12)


def test_negative_binomial_row_matches_the_hand_calculation() -> None:
    # Mean 4, variance 12: r = 2, p = 1/3; f(0) = 1/9, f(1) = 4/27.
    p10, p90 = nb_spread(4.0, 12.0)
    frame = positions(
        promoted_units=[4.0, 4.0],
        p10=[p10, p10],
        p50=[4.0, 4.0],
        p90=[p90, p90],
        item_id=[1, 2],
        location_id=[10, 10],
        on_hand=[0.0, 1.0],
        on_order_due=[0.0, 0.0],
        allocated=[0.0, 0.0],
        baseline_weekly_units=[1.0, 1.0],
    )
    empty, one = assess_stockout_risk(frame).iter_rows(named=True)
    assert empty["stockout_probability"] == pytest.approx(8 / 9, abs=1e-12)
    assert empty["expected_lost_units"] == pytest.approx(4.0, abs=1e-12)
    assert one["stockout_probability"] == pytest.approx(20 / 27, abs=1e-12)
    assert one["expected_lost_units"] == pytest.approx(4 - 8 / 9, abs=1e-12)
    assert one["expected_left_units"] == pytest.approx(1 / 9, abs=1e-12)


def test_spread_below_poisson_is_read_as_poisson() -> None:
    demand = fit_window_demand(np.array([10.0, 10.0]), np.array([9.0, 2.0]), np.array([11.0, 18.0]))
    assert demand.negative_binomial.tolist() == [False, True]
    assert demand.variance[0] == 10.0
    assert demand.variance[1] == pytest.approx((16 / (2 * Z90)) ** 2)


def test_allocated_beyond_stock_leaves_nothing_available() -> None:
    row = assess_stockout_risk(positions(allocated=[9.0])).row(0, named=True)
    assert row["available"] == 0.0
    assert row["stockout_probability"] == pytest.approx(1 - math.exp(-2), abs=1e-12)
    assert row["expected_left_units"] == 0.0


def test_stock_that_never_sells_reports_the_finite_cap() -> None:
    frame = positions(
        item_id=[1, 2], location_id=[10, 10], promoted_units=[2.0, 0.0], p10=[2.0, 0.0],
        p50=[2.0, 0.0], p90=[2.0, 0.0], on_hand=[3.0, 0.0], on_order_due=[1.0, 0.0],
        allocated=[2.0, 0.0], baseline_weekly_units=[0.0, 0.0],
    )  # fmt: skip
    weeks = assess_stockout_risk(frame)["overstock_weeks"].to_list()
    assert weeks == [NEVER_SELLS_WEEKS, 0.0]


@pytest.mark.parametrize(
    ("mean", "variance", "stock"),
    [(3.0, 3.0, 0.0), (12.0, 40.0, 9.5), (60.0, 60.0, 96.0), (60.0, 300.0, 97.0),
     (300.0, 900.0, 310.7), (2000.0, 2000.0, 1990.0), (800.0, 800.0, 20.0)],
)  # fmt: skip
def test_both_evaluation_paths_agree_with_scipy(mean: float, variance: float, stock: float) -> None:
    """Small stocks use the Panjer recursion, large ones the incomplete beta/gamma."""
    demand = WindowDemand(np.array([mean]), np.array([variance]))
    beyond, sales = stock_outcomes(demand, np.array([stock]))
    if variance > mean:
        r = mean**2 / (variance - mean)
        dist = stats.nbinom(r, mean / variance)
    else:
        dist = stats.poisson(mean)
    k = np.arange(0, int(mean * 10 + 200))
    pmf = dist.pmf(k)
    assert beyond[0] == pytest.approx(dist.sf(math.floor(stock)), abs=1e-12)
    assert sales[0] == pytest.approx(float((np.minimum(k, stock) * pmf).sum()), rel=1e-10)


def test_summary_pools_units_per_group() -> None:
    p10, p90 = nb_spread(4.0, 12.0)
    frame = positions(
        item_id=[1, 2, 3], location_id=[10, 10, 20], promoted_units=[2.0, 4.0, 2.0],
        p10=[2.0, p10, 2.0], p50=[2.0, 4.0, 2.0], p90=[2.0, p90, 2.0],
        on_hand=[2.0, 0.0, 2.0], on_order_due=[0.0, 0.0, 0.0], allocated=[0.0, 0.0, 0.0],
        baseline_weekly_units=[0.5, 1.5, 2.0],
    ).with_columns(region=pl.Series(["north", "north", "south"]))  # fmt: skip
    risk = assess_stockout_risk(frame)
    north, south = summarise_risk(risk, ["region"]).iter_rows(named=True)
    e2 = math.exp(-2)
    assert north["region"] == "north"
    assert north["item_locations"] == 2
    assert north["expected_stockouts"] == pytest.approx(1 - 5 * e2 + 8 / 9)
    assert north["mean_stockout_probability"] == pytest.approx((1 - 5 * e2 + 8 / 9) / 2)
    assert north["max_stockout_probability"] == pytest.approx(8 / 9)
    assert north["share_of_demand_at_risk"] == pytest.approx((4 * e2 + 4.0) / 6.0)
    # Left units pooled over pooled weekly sales: (4e⁻² + 0) / (0.5 + 1.5).
    assert north["overstock_weeks"] == pytest.approx(4 * e2 / 2.0)
    assert south["item_locations"] == 1
    overall = summarise_risk(risk).row(0, named=True)
    assert overall["item_locations"] == 3
    assert overall["expected_demand_units"] == pytest.approx(8.0)


def test_missing_column_is_named() -> None:
    with pytest.raises(InvalidInput) as raised:
        assess_stockout_risk(positions().drop("on_order_due"))
    assert raised.value.field == "on_order_due"


def test_negative_stock_names_field_value_and_row() -> None:
    with pytest.raises(InvalidInput) as raised:
        assess_stockout_risk(positions(on_hand=[-1.0]))
    assert (raised.value.field, raised.value.value) == ("on_hand", -1.0)
    assert "item_id=1, location_id=10" in raised.value.reason


def test_missing_quantile_value_is_refused() -> None:
    frame = positions().with_columns(pl.lit(None, dtype=pl.Float64).alias("p10"))
    with pytest.raises(InvalidInput) as raised:
        assess_stockout_risk(frame)
    assert (raised.value.field, raised.value.value) == ("p10", None)


def test_crossed_quantiles_are_refused() -> None:
    with pytest.raises(InvalidInput) as raised:
        assess_stockout_risk(positions(p10=[5.0], p90=[1.0]))
    assert (raised.value.field, raised.value.value) == ("p90", 1.0)


def test_summary_refuses_an_unknown_grouping() -> None:
    with pytest.raises(InvalidInput) as raised:
        summarise_risk(assess_stockout_risk(positions()), ["category"])
    assert raised.value.field == "category"

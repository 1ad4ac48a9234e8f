"""Backtest metrics on cases small enough to check by hand."""

from __future__ import annotations

import polars as pl
import pytest

from promoflow.forecasting.metrics import (
    accuracy,
    bias,
    interval_coverage,
    interval_width,
    mase,
    naive_scale,
    wape,
)


def scored(
    actual: list[float],
    forecast: list[float],
    *,
    ids: list[str] | None = None,
    p10: list[float] | None = None,
    p90: list[float] | None = None,
    promo: list[bool] | None = None,
) -> pl.DataFrame:
    n = len(actual)
    return pl.DataFrame(
        {
            "unique_id": ids or ["a"] * n,
            "actual": actual,
            "forecast": forecast,
            "p10": p10 or [None] * n,
            "p90": p90 or [None] * n,
            "on_promotion": promo or [False] * n,
        },
        schema_overrides={c: pl.Float64 for c in ("actual", "forecast", "p10", "p90")},
    )


def test_wape_is_total_absolute_error_over_total_actual() -> None:
    # |12-10| + |1-0| + |27-30| = 6 over 40 units sold.
    assert wape(scored([10, 0, 30], [12, 1, 27])) == pytest.approx(0.15)


def test_bias_is_signed_and_relative_to_units_sold() -> None:
    assert bias(scored([10, 0, 30], [12, 1, 30])) == pytest.approx(3 / 40)
    assert bias(scored([10, 10], [5, 5])) == pytest.approx(-0.5)


def test_wape_and_bias_are_undefined_without_sales() -> None:
    assert wape(scored([0, 0], [1, 2])) is None
    assert bias(scored([], [])) is None


def test_coverage_counts_actuals_inside_the_interval_bounds_included() -> None:
    rows = scored([5, 10, 20, 0], [8, 8, 8, 8], p10=[5, 2, 2, 1], p90=[9, 10, 19, 9])
    # 5 on the lower bound and 10 on the upper bound count; 20 and 0 fall outside.
    assert interval_coverage(rows) == pytest.approx(0.5)
    assert interval_width(rows) == pytest.approx((4 + 8 + 17 + 8) / 4)


def test_a_model_without_intervals_has_no_coverage_or_width() -> None:
    rows = scored([5, 10], [5, 10])
    assert interval_coverage(rows) is None
    assert interval_width(rows) is None


def test_naive_scale_skips_unobserved_and_censored_periods() -> None:
    history = pl.DataFrame(
        {
            "unique_id": ["a"] * 5 + ["b"] * 2 + ["c"],
            "ds": [0, 1, 2, 3, 4, 0, 1, 0],
            "y": [1.0, 3.0, 0.0, None, 2.0, 4.0, 4.0, 7.0],
            "censored": [False, False, True, False, False, False, False, False],
        }
    )
    scale = dict(naive_scale(history).iter_rows())
    # a: observed, uncensored 1, 3, 2 -> steps 2 and 1; b: flat; c: a single value.
    assert scale == {"a": pytest.approx(1.5), "b": 0.0, "c": None}


def test_mase_averages_series_ratios_and_skips_series_without_scale() -> None:
    rows = scored([10, 10, 5, 3], [13, 7, 6, 9], ids=["a", "a", "c", "b"])
    scale = pl.DataFrame({"unique_id": ["a", "b", "c"], "scale": [1.5, 0.0, 2.0]})
    # a: MAE 3 / 1.5 = 2; c: MAE 1 / 2 = 0.5; b has no scale (a flat history).
    assert mase(rows, scale) == pytest.approx(1.25)


def test_accuracy_splits_promotion_periods_from_the_others() -> None:
    rows = scored(
        [10, 20, 10, 10],
        [10, 10, 12, 8],
        promo=[False, True, False, False],
        p10=[9, 5, 9, 9],
        p90=[11, 15, 11, 11],
    )
    scale = pl.DataFrame({"unique_id": ["a"], "scale": [2.0]})
    got = accuracy(rows, scale)
    assert got["wape_promo"] == pytest.approx(0.5)
    assert got["wape_non_promo"] == pytest.approx(4 / 30)
    assert got["wape"] == pytest.approx(14 / 50)
    assert got["bias"] == pytest.approx(-10 / 50)
    assert got["mase"] == pytest.approx(3.5 / 2)
    # Only the promoted week's 20 falls outside its interval.
    assert got["coverage_80"] == pytest.approx(0.75)
    assert got["interval_width_80"] == pytest.approx((2 + 10 + 2 + 2) / 4)


def test_coverage_is_also_measured_on_promoted_and_other_rows_apart() -> None:
    rows = scored(
        [10, 20, 30, 10, 9, 11],
        [10, 10, 25, 10, 10, 10],
        promo=[True, True, True, False, False, False],
        p10=[8, 5, 20, 9, 9, 9],
        p90=[12, 15, 35, 11, 11, 11],
    )
    got = accuracy(rows, pl.DataFrame({"unique_id": ["a"], "scale": [1.0]}))
    # Promoted: 10 and 30 inside, 20 above 15; other: 10, 9 and 11 inside [9, 11].
    assert got["coverage_80_promo"] == pytest.approx(2 / 3)
    assert got["coverage_80_non_promo"] == pytest.approx(1.0)
    assert got["coverage_80"] == pytest.approx(5 / 6)


def test_coverage_on_a_side_without_rows_or_without_intervals_is_undefined() -> None:
    scale = pl.DataFrame({"unique_id": ["a"], "scale": [1.0]})
    no_promotion = scored([10, 12], [10, 10], p10=[9, 9], p90=[11, 11])
    got = accuracy(no_promotion, scale)
    assert got["coverage_80_promo"] is None
    assert got["coverage_80_non_promo"] == pytest.approx(0.5)
    no_interval = accuracy(scored([10, 12], [10, 10], promo=[True, False]), scale)
    assert no_interval["coverage_80_promo"] is None
    assert no_interval["coverage_80_non_promo"] is None

"""Unconstraining stockout weeks: hand-checkable cases of E[demand | demand >= sold]."""

from __future__ import annotations

import numpy as np
import polars as pl
from scipy.stats import nbinom  # type: ignore[import-untyped]

from promoflow.forecasting import censoring, features
from promoflow.forecasting.panel import PanelSpec


def brute_force(sold: float, mean: float, phi: float) -> float:
    """E[D | D >= sold] by summing the negative binomial's probabilities."""
    shape = 1.0 / phi
    d = np.arange(int(sold), 5_000)
    p = nbinom.pmf(d, shape, shape / (shape + mean))
    return float((d * p).sum() / p.sum())


def test_nothing_sold_means_the_unconditional_mean() -> None:
    out = censoring.expected_demand_at_least(np.array([0.0]), np.array([7.5]), 0.3)
    assert np.isclose(out[0], 7.5)


def test_matches_the_sum_over_the_tail() -> None:
    sold = np.array([3.0, 12.0, 40.0, 9.0])
    mean = np.array([5.0, 10.0, 12.0, 30.0])
    out = censoring.expected_demand_at_least(sold, mean, 0.2)
    expected = [brute_force(s, m, 0.2) for s, m in zip(sold, mean, strict=True)]
    assert np.allclose(out, expected, rtol=1e-6)


def test_never_below_what_sold_even_far_in_the_tail_or_without_an_estimate() -> None:
    sold = np.array([500.0, 4.0, 6.0])
    mean = np.array([2.0, 0.0, np.nan])
    out = censoring.expected_demand_at_least(sold, mean, 0.1)
    assert (out >= sold).all()
    assert out[1] == 4.0 and out[2] == 6.0


def test_dispersion_recovers_the_simulated_one() -> None:
    rng = np.random.default_rng(4)
    mean = rng.uniform(2, 40, 20_000)
    shape = 4.0  # dispersion 0.25
    sales = rng.poisson(mean * rng.gamma(shape, 1 / shape, mean.size)).astype(float)
    phi = censoring.dispersion(pl.Series(sales), pl.Series(mean))
    assert 0.22 < phi < 0.28, phi
    assert censoring.dispersion(pl.Series([1.0]), pl.Series([1.0])) == (
        censoring.DEFAULT_DISPERSION
    )


def test_an_unpromoted_stockout_trains_on_more_than_it_sold_a_promoted_one_waits() -> None:
    """A promoted stockout waits for the model (weight 0 here) and keeps what it sold."""
    spec = PanelSpec(
        id_cols=("s",),
        time_col="w",
        target="units",
        known_covariates=("on_promo",),
        promo_cols=("on_promo",),
        censor_col="stockout",
    )
    weeks = 12
    frame = pl.DataFrame(
        {
            "unique_id": ["a"] * weeks,
            "ds": list(range(weeks)),
            "y": [10.0, 12, 8, 11, 9, 10, 12, 9, 11, 10, 14, None],
            "censored": [False] * 9 + [True, True, False],
            "on_promo": [0.0] * 10 + [1.0, 0.0],
        }
    )
    imputed = features.impute_censored(frame, spec).frame
    stockout, promoted, missing = imputed.tail(3).iter_rows(named=True)
    assert stockout["weight"] == 1.0 and stockout["y"] > 10.0
    assert promoted["weight"] == 0.0 and promoted["y"] >= 14.0
    assert promoted[features.STOCKOUT_SALES] == 14.0
    assert stockout[features.STOCKOUT_SALES] is None and missing[features.STOCKOUT_SALES] is None
    assert missing["weight"] == 0.0 and missing["y"] is not None
    assert imputed.head(9)["y"].to_list() == frame.head(9)["y"].to_list()

"""Fit the demand model on N weekly series x 104 weeks and forecast 13 weeks with intervals.

The panel is synthetic (numpy, seeded): per-series levels, yearly seasonality,
promotions on ~10 % of weeks with a price cut and a lift, 3 % stockout weeks,
a store attribute. The figures are wall time for fit (including the conformal
calibration refit) and for predict (forecast, baseline and quantiles), the
process's peak resident memory, and the share of training rows the model's
row budget kept (`ModelConfig.max_training_rows`).

One fixed recipe: `ModelConfig`'s defaults (ratio target, Tweedie, SCAN*PRO
prior, season, cross-item features). The recipe search (recipe.py) fits a dozen
candidates on three folds each and is not run at this scale.

    uv run python benchmarks/forecast_scale.py --series 100000 [--threads 2]
"""

from __future__ import annotations

import argparse
import os
import resource
import time
from datetime import date, timedelta

import numpy as np
import polars as pl

from promoflow.forecasting.model import GlobalDemandModel, ModelConfig
from promoflow.forecasting.panel import Panel, PanelSpec

WEEKS = 104
HORIZON = 13
SPEC = PanelSpec(
    id_cols=("series",),
    time_col="week",
    target="units",
    known_covariates=("price", "on_promo", "display"),
    promo_cols=("on_promo", "display"),
    static_cols=("store_format", "category"),
    category_col="category",
    censor_col="stockout",
)
CATEGORIES = 50


def synthetic_panel(series: int, seed: int = 1) -> tuple[Panel, pl.DataFrame]:
    """History (WEEKS - HORIZON weeks) and the future rows (HORIZON weeks) of N series."""
    rng = np.random.default_rng(seed)
    weeks = np.arange(WEEKS)
    level = rng.gamma(2.0, 6.0, series)[:, None]
    # Each category has its own seasonal phase (the model measures it per category).
    category = rng.integers(0, CATEGORIES, series)
    phase = rng.integers(0, 52, CATEGORIES)[category][:, None]
    season = 1 + 0.25 * np.sin(2 * np.pi * (weeks[None, :] + phase) / 52)
    on_promo = rng.random((series, WEEKS)) < 0.10
    display = on_promo & (rng.random((series, WEEKS)) < 0.4)
    depth = np.where(on_promo, rng.choice([0.1, 0.2, 0.3], (series, WEEKS)), 0.0)
    lift = (1 - depth) ** -2.5 * np.where(display, 1.3, 1.0)
    demand = rng.poisson(level * season * lift)
    stockout = rng.random((series, WEEKS)) < 0.03
    sold = np.where(stockout, np.floor(demand * 0.6), demand)
    frame = pl.DataFrame(
        {
            "unique_id": np.repeat(np.arange(series), WEEKS).astype(str),
            "ds": np.tile(weeks, series).astype(np.int64),
            "y": sold.ravel().astype(np.float64),
            "censored": stockout.ravel(),
            "price": (4.0 * (1 - depth)).ravel(),
            "on_promo": on_promo.ravel().astype(np.float64),
            "display": display.ravel().astype(np.float64),
            "store_format": np.repeat(rng.choice(["super", "express", "hyper"], series), WEEKS),
            "category": np.repeat(category.astype(str), WEEKS),
        }
    )
    start = date(2024, 11, 4)
    calendar = pl.DataFrame(
        {"ds": weeks.astype(np.int64), "period": [start + timedelta(weeks=int(w)) for w in weeks]}
    )
    cutoff = WEEKS - HORIZON - 1
    history = Panel(SPEC, frame.filter(pl.col("ds") <= cutoff), calendar)
    future = frame.filter(pl.col("ds") > cutoff).drop("y", "censored")
    return history, future


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--series", type=int, default=100_000)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    started = time.perf_counter()
    history, future = synthetic_panel(args.series)
    built = time.perf_counter() - started
    print(
        f"panel: {args.series:,} series x {WEEKS} weeks, {history.frame.height:,} history rows "
        f"built in {built:.1f} s; peak RSS {peak_rss_mib():,.0f} MiB; "
        f"load {os.getloadavg()[0]:.1f}"
    )
    model = GlobalDemandModel(ModelConfig(threads=args.threads))
    started = time.perf_counter()
    model.fit(history)
    fitted = time.perf_counter() - started
    print(f"fit (with conformal calibration): {fitted:.1f} s; peak RSS {peak_rss_mib():,.0f} MiB")
    sample, budget = model.row_sample, model.config.max_training_rows
    print(
        f"training rows kept (max_training_rows {budget or 'none'}): "
        f"{sample.promoted:.0%} of promoted, {sample.other:.0%} of the others"
    )
    started = time.perf_counter()
    predicted = model.predict(future)
    predicting = time.perf_counter() - started
    print(
        f"predict {HORIZON} weeks ({predicted.height:,} rows, forecast + baseline + P10-P90): "
        f"{predicting:.1f} s; peak RSS {peak_rss_mib():,.0f} MiB"
    )
    print(
        f"fit + predict: {fitted + predicting:.1f} s (target: under 180 s and 8 GB); "
        f"load {os.getloadavg()[0]:.1f}"
    )


if __name__ == "__main__":
    main()

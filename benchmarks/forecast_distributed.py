"""Fit and predict seconds of the demand model on a local Dask cluster, beside the local model.

    uv run python benchmarks/forecast_distributed.py [--series 2000] [--weeks 104]
        [--horizon 8] [--workers 2] [--threads 1] [--threads-not-processes] [--no-local]
        [--local-threads N]

Synthetic weekly Poisson demand with a yearly season, promotions (12 % of weeks,
price 4 -> 3) that double it and 5 % stockout weeks. Both models run one recipe
(`ModelConfig` defaults; the recipe search is not run here): a main fit and a
conformal calibration refit, on the cluster for the distributed one. With the
local model it also prints how far the two forecasts are apart (totals, and per
row on rows forecasting at least one unit).
"""

from __future__ import annotations

import argparse
import os
import platform
import time
import warnings
from datetime import date, timedelta

import numpy as np
import polars as pl
from distributed import Client, LocalCluster

from promoflow.forecasting.distributed import DistributedDemandModel
from promoflow.forecasting.model import GlobalDemandModel, ModelConfig
from promoflow.forecasting.panel import Panel, PanelSpec

SPEC = PanelSpec(
    id_cols=("series",),
    time_col="week",
    target="units",
    known_covariates=("price", "on_promo"),
    promo_cols=("on_promo",),
    static_cols=("region",),
    censor_col="stockout",
    category_col="region",  # the recipe's season, prior elasticities and siblings per region
)


def synthetic(series: int, weeks: int, seed: int = 5) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The panel frame and its weekly calendar."""
    rng = np.random.default_rng(seed)
    level = rng.uniform(3, 40, series)[:, None]
    week = np.arange(weeks)[None, :]
    promoted = rng.random((series, weeks)) < 0.12
    season = 1 + 0.2 * np.sin(2 * np.pi * week / 52)
    demand = rng.poisson(level * season * np.where(promoted, 2.0, 1.0)).astype(float)
    stockout = rng.random((series, weeks)) < 0.05
    ids = np.repeat(np.arange(series), weeks)
    frame = pl.DataFrame(
        {
            "unique_id": [f"S{s:05d}" for s in ids],
            "ds": np.tile(np.arange(weeks), series),
            "y": np.where(stockout, np.floor(demand * 0.4), demand).ravel(),
            "censored": stockout.ravel(),
            "price": np.where(promoted, 3.0, 4.0).ravel(),
            "on_promo": promoted.ravel().astype(float),
            "region": [f"region-{s % 4}" for s in ids],
        },
        schema_overrides={"ds": pl.Int64},
    )
    start = date(2023, 1, 2)
    calendar = pl.DataFrame(
        {"ds": range(weeks), "period": [start + timedelta(weeks=w) for w in range(weeks)]},
        schema={"ds": pl.Int64, "period": pl.Date},
    )
    return frame, calendar


def coverage(actuals: pl.DataFrame, predicted: pl.DataFrame) -> float:
    """Share of uncensored actuals inside [p10, p90]."""
    scored = actuals.filter(~pl.col("censored")).join(predicted, on=["unique_id", "ds"])
    inside = (pl.col("y") >= pl.col("p10")) & (pl.col("y") <= pl.col("p90"))
    return float(scored.select(inside.mean()).item())


def agreement(distributed: pl.DataFrame, local: pl.DataFrame) -> str:
    """How far the distributed forecasts are from the local ones."""
    joined = local.join(distributed, on=["unique_id", "ds"], suffix="_dask")
    total = abs(joined["forecast_dask"].sum() / joined["forecast"].sum() - 1)
    rows = joined.filter(pl.col("forecast") >= 1)
    gap = (rows["forecast_dask"] - rows["forecast"]).abs() / rows["forecast"]
    return (
        f"forecast total {total:.2%} apart; per row (forecast >= 1, {rows.height:,} rows) "
        f"mean {gap.mean():.2%}, max {gap.max():.2%}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--series", type=int, default=2000)
    parser.add_argument("--weeks", type=int, default=104)
    parser.add_argument("--horizon", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=1, help="threads per worker")
    parser.add_argument("--threads-not-processes", action="store_true")
    parser.add_argument("--no-local", action="store_true", help="skip the local model")
    parser.add_argument(
        "--local-threads", type=int, help="the local model's threads (default: the cluster's)"
    )
    args = parser.parse_args()
    # LightGBM on Dask takes its threads from the worker and says so for every booster.
    warnings.filterwarnings("ignore", "Parameter n_jobs will be ignored")
    frame, calendar = synthetic(args.series, args.weeks)
    cutoff = args.weeks - args.horizon - 1
    history = Panel(SPEC, frame.filter(pl.col("ds") <= cutoff), calendar)
    actuals = frame.filter(pl.col("ds") > cutoff)
    future = actuals.drop("y", "censored")
    print(
        f"{args.series:,} series x {args.weeks} weeks, horizon {args.horizon}; "
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"load {os.getloadavg()[0]:.1f}"
    )
    started = time.perf_counter()
    with (
        LocalCluster(
            n_workers=args.workers,
            threads_per_worker=args.threads,
            processes=not args.threads_not_processes,
            dashboard_address=None,
        ) as cluster,
        Client(cluster) as client,
    ):
        kind = "threads" if args.threads_not_processes else "processes"
        print(f"cluster up ({args.workers} worker {kind}): {time.perf_counter() - started:.1f} s")
        model = DistributedDemandModel(client)
        started = time.perf_counter()
        model.fit(history)
        fitted = time.perf_counter()
        distributed = model.predict(future)
        done = time.perf_counter()
        print(
            f"distributed: fit {fitted - started:.1f} s, predict {done - fitted:.1f} s, "
            f"[p10, p90] coverage {coverage(actuals, distributed):.3f}"
        )
    if args.no_local:
        return
    local = GlobalDemandModel(
        ModelConfig(threads=args.local_threads or args.workers * args.threads)
    )
    started = time.perf_counter()
    local.fit(history)
    fitted = time.perf_counter()
    predicted = local.predict(future)
    done = time.perf_counter()
    print(
        f"local: fit {fitted - started:.1f} s, predict {done - fitted:.1f} s, "
        f"[p10, p90] coverage {coverage(actuals, predicted):.3f}"
    )
    print(f"agreement: {agreement(distributed, predicted)}; load {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()

"""The demand model on a local Dask cluster: the local model's recipe, on a synthetic
retailer whose true lift is known.

The claim (issue 14): one recipe at every scale. The distributed model reuses the
local model's code around its engine (distributed.py), so its forecasts must be
the local fit's: per row on one worker, in total on two (LightGBM's data-parallel
training builds bins per worker, so trees differ a little; see the tests).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import date, timedelta

import numpy as np
import polars as pl
import pytest
from distributed import Client, LocalCluster

from promoflow.forecasting.distributed import DistributedDemandModel
from promoflow.forecasting.model import GlobalDemandModel, ModelConfig
from promoflow.forecasting.panel import Panel, PanelSpec
from promoflow.kit.errors import InvalidInput

pytestmark = pytest.mark.filterwarnings(
    # LightGBM on Dask takes its threads from the worker and says so for every booster.
    "ignore:Parameter n_jobs will be ignored:UserWarning",
    "ignore::FutureWarning",
)

SERIES = 300
WEEKS = 104
HOLDOUT = 8
TRUE_LIFT = 2.0
REGIONS = 4
SPEC = PanelSpec(
    id_cols=("series",),
    time_col="week",
    target="units",
    known_covariates=("price", "on_promo"),
    promo_cols=("on_promo",),
    static_cols=("region",),
    censor_col="stockout",
    # Each region has its own seasonal phase: the season, the prior's elasticity
    # and the sibling features are all measured per region.
    category_col="region",
)
FAST = ModelConfig(n_estimators=100, learning_rate=0.1, num_leaves=15, min_child_samples=20)
QUANTILES = ("p10", "p50", "p80", "p90")
KEY = ["unique_id", "ds"]


def retailer(seed: int = 5) -> pl.DataFrame:
    """Weekly Poisson demand with a yearly season per region; promotions (price 4 -> 3)
    double it.

    One week in twenty before the holdout is a stockout that sold 40 % of demand; the
    holdout's actuals are true demand.
    """
    rng = np.random.default_rng(seed)
    level = rng.uniform(3, 40, SERIES)[:, None]
    region = np.arange(SERIES) % REGIONS
    week = np.arange(WEEKS)[None, :]
    season = 1 + 0.2 * np.sin(2 * np.pi * (week + 13 * region[:, None]) / 52)
    promoted = rng.random((SERIES, WEEKS)) < 0.12
    demand = rng.poisson(level * season * np.where(promoted, TRUE_LIFT, 1.0)).astype(float)
    stockout = (rng.random((SERIES, WEEKS)) < 0.05) & (week < WEEKS - HOLDOUT)
    series = np.repeat(np.arange(SERIES), WEEKS)
    return pl.DataFrame(
        {
            "unique_id": [f"S{s:04d}" for s in series],
            "ds": np.tile(np.arange(WEEKS), SERIES),
            "y": np.where(stockout, np.floor(demand * 0.4), demand).ravel(),
            "censored": stockout.ravel(),
            "price": np.where(promoted, 3.0, 4.0).ravel(),
            "on_promo": promoted.ravel().astype(float),
            "region": [f"region-{s % REGIONS}" for s in series],
        },
        schema_overrides={"ds": pl.Int64},
    )


def weekly_calendar() -> pl.DataFrame:
    start = date(2023, 1, 2)
    return pl.DataFrame(
        {"ds": range(WEEKS), "period": [start + timedelta(weeks=w) for w in range(WEEKS)]},
        schema={"ds": pl.Int64, "period": pl.Date},
    )


def local_cluster(workers: int) -> Iterator[Client]:
    # Threads, not processes: each spawned worker would re-import pandas, sklearn and
    # mlforecast (tens of seconds on a busy machine). LightGBM still trains over its
    # own sockets between two workers; processes=True works too (benchmarks/). One
    # thread per worker, as the local model's one thread (ModelConfig.threads).
    with (
        LocalCluster(
            n_workers=workers, threads_per_worker=1, processes=False, dashboard_address=None
        ) as cluster,
        Client(cluster) as dask_client,
    ):
        yield dask_client


@pytest.fixture(scope="module")
def client() -> Iterator[Client]:
    """Two workers: LightGBM trains data-parallel."""
    yield from local_cluster(2)


@pytest.fixture(scope="module")
def one_worker() -> Iterator[Client]:
    yield from local_cluster(1)


CUTOFF = WEEKS - HOLDOUT - 1


@pytest.fixture(scope="module")
def sales() -> pl.DataFrame:
    return retailer()


@pytest.fixture(scope="module")
def history(sales: pl.DataFrame) -> Panel:
    """All but the last 8 weeks."""
    return Panel(SPEC, sales.filter(pl.col("ds") <= CUTOFF), weekly_calendar())


@pytest.fixture(scope="module")
def future(sales: pl.DataFrame) -> pl.DataFrame:
    # Some rows are not asked for: the answer must hold exactly the rows requested.
    holdout = sales.filter(pl.col("ds") > CUTOFF).filter(pl.int_range(pl.len()) % 37 != 5)
    return holdout.drop("y", "censored")


@pytest.fixture(scope="module")
def model(client: Client, history: Panel) -> DistributedDemandModel:
    return DistributedDemandModel(client, FAST).fit(history)


@pytest.fixture(scope="module")
def local_forecast(history: Panel, future: pl.DataFrame) -> pl.DataFrame:
    return GlobalDemandModel(FAST).fit(history).predict(future)


@pytest.fixture(scope="module")
def scored(
    model: DistributedDemandModel, sales: pl.DataFrame, future: pl.DataFrame
) -> pl.DataFrame:
    """The requested holdout rows with actuals, forecasts and a 4-week moving average."""
    predicted = model.predict(future)
    assert predicted.height == future.height
    moving_average = (
        sales.filter(pl.col("ds").is_between(CUTOFF - 3, CUTOFF) & ~pl.col("censored"))
        .group_by("unique_id")
        .agg(pl.col("y").mean().alias("moving_average"))
    )
    return (
        sales.join(future.select(KEY), on=KEY, how="semi")
        .join(predicted, on=KEY, how="left")
        .join(moving_average, on="unique_id", how="left")
    )


def relative_gap(ours: pl.DataFrame, theirs: pl.DataFrame, column: str) -> pl.Series:
    """|ours - theirs| / theirs per row, on rows where theirs is at least one unit."""
    joined = theirs.join(ours, on=KEY, suffix="_ours").filter(pl.col(column) >= 1)
    assert joined.height > 0.9 * theirs.height
    return ((joined[f"{column}_ours"] - joined[column]).abs() / joined[column]).alias(column)


@pytest.mark.parametrize(
    "config",
    [
        pytest.param(FAST, id="ratio-tweedie"),
        # Another target form, and a row budget below the panel's ~27,000 learnt rows,
        # so the draw (RowSample) must keep the same rows on the cluster.
        pytest.param(
            replace(FAST, target="log", objective="l2", max_training_rows=15_000),
            id="log-l2-row-budget",
        ),
    ],
)
def test_on_one_worker_every_forecast_is_the_local_models(
    one_worker: Client, history: Panel, future: pl.DataFrame, config: ModelConfig
) -> None:
    # One worker trains serially on the same rows in the same order: measured equal
    # to the last digit, forecast, baseline and conformal quantiles (their
    # calibration refit runs on the cluster too). The claim is 1 % per row.
    distributed = DistributedDemandModel(one_worker, config).fit(history)
    local = GlobalDemandModel(config).fit(history)
    ours, theirs = distributed.predict(future), local.predict(future)
    assert ours.height == theirs.height == future.height
    for column in ("forecast", "baseline", *QUANTILES):
        assert relative_gap(ours, theirs, column).max() < 0.01, column
    # Forecasting from fresh history (new lags, the same trees) too.
    fresh = distributed.predict(future, history)
    assert relative_gap(fresh, local.predict(future, history), "forecast").max() < 0.01


def test_on_two_workers_the_totals_are_the_local_models(
    scored: pl.DataFrame, local_forecast: pl.DataFrame
) -> None:
    # Data-parallel LightGBM builds each feature's bins from one worker's rows and bags
    # rows per worker, so the trees differ from a serial fit's, and from run to run.
    # Measured (two runs): forecast and baseline totals within 0.05-0.3 %, on
    # promoted rows too; per row 2 % apart on average, up to 36 % on a few rows.
    # Without bagging or feature sampling, with `deterministic` and unlimited bins,
    # rows still differed 2 % on average: no setting makes two workers grow one
    # worker's trees, so the recipe's bagging is unchanged and the claim on two
    # workers is on totals (all rows, and promoted rows).
    for rows in (pl.lit(True), pl.col("on_promo") > 0):
        ours = scored.filter(rows)
        theirs = local_forecast.join(ours.select(KEY), on=KEY, how="semi")
        assert theirs.height == ours.height
        for column in ("forecast", "baseline"):
            gap = abs(ours[column].sum() / theirs[column].sum() - 1)
            assert gap < 0.01, (column, gap)


def test_every_requested_row_gets_ordered_non_negative_quantiles(scored: pl.DataFrame) -> None:
    columns = ["forecast", "baseline", "p10", "p50", "p80", "p90"]
    assert scored.select(pl.col(columns).null_count()).sum_horizontal().item() == 0
    assert scored.select(pl.min_horizontal(columns).min()).item() >= 0
    crossed = scored.filter(
        (pl.col("p10") > pl.col("p50"))
        | (pl.col("p50") > pl.col("p80"))
        | (pl.col("p80") > pl.col("p90"))
    )
    assert crossed.is_empty()


def test_promoted_forecast_exceeds_the_baseline_by_the_true_lift(scored: pl.DataFrame) -> None:
    promoted = scored.filter(pl.col("on_promo") > 0)
    assert promoted.height > 200
    lift = promoted["forecast"].sum() / promoted["baseline"].sum()
    assert 1.6 < lift < 2.5, lift


def test_p10_to_p90_covers_about_eighty_percent_of_actuals(scored: pl.DataFrame) -> None:
    # The local model's conformal quantiles, calibrated by a refit on the cluster.
    # ~2,300 rows, but rows of a week share its shocks: the band is test_model.py's.
    # Measured 0.76-0.77 (the local model: 0.76).
    assert scored.height > 2000
    inside = scored.select(
        ((pl.col("y") >= pl.col("p10")) & (pl.col("y") <= pl.col("p90"))).mean()
    ).item()
    assert 0.65 <= inside <= 0.93, inside


def test_beats_a_four_week_moving_average_on_promotion_weeks(scored: pl.DataFrame) -> None:
    promoted = scored.filter(pl.col("on_promo") > 0)

    def wape(column: str) -> float:
        error = (pl.col("y") - pl.col(column)).abs().sum() / pl.col("y").sum()
        return float(promoted.select(error).item())

    # Measured 0.14 against 0.49: the average knows no promotion.
    assert wape("forecast") < 0.6 * wape("moving_average"), (
        wape("forecast"),
        wape("moving_average"),
    )


def test_a_region_alone_gets_the_same_forecast_as_in_the_whole_run(
    model: DistributedDemandModel, future: pl.DataFrame, scored: pl.DataFrame
) -> None:
    # A whole region: sibling features see the same siblings as in the whole run.
    alone = model.predict(future.filter(pl.col("region") == "region-1"))
    together = scored.filter(pl.col("region") == "region-1").select(alone.columns)
    assert alone.height == together.height > 0
    joined = alone.join(together, on=KEY, suffix="_all")
    assert joined.height == together.height
    for column in ("forecast", "baseline", "p10", "p90"):
        assert (joined[column] - joined[f"{column}_all"]).abs().max() < 1e-6


def test_refuses_future_rows_inside_the_history(
    model: DistributedDemandModel, sales: pl.DataFrame
) -> None:
    late = sales.filter(pl.col("ds") == CUTOFF).drop("y", "censored")
    with pytest.raises(InvalidInput) as refused:
        model.predict(late)
    assert refused.value.field == "future.ds"

"""No model in the backtest sees the held-out demand.

If any model (ours, a comparator or a baseline) read an actual after the cutoff,
scaling those actuals would move its forecasts. So the backtest runs three times on
one panel: as it is, with every held-out target x10 and with every held-out target
+7; every model's forecasts and interval bounds must be the same in all three.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import numpy as np
import polars as pl
import pytest

from promoflow.forecasting.backtest import BacktestResult, run_backtest
from promoflow.forecasting.dataset import build_panel
from promoflow.forecasting.panel import Panel, PanelSpec

# Training searches recipes (and the backtest runs every model): slower than the
# suite's 180 s default on a loaded 2-core CI machine.
pytestmark = pytest.mark.timeout(300)

SPEC = PanelSpec(
    id_cols=("item", "store"),
    time_col="week",
    target="units",
    known_covariates=("price", "on_promo"),
    promo_cols=("on_promo",),
    static_cols=("category",),
    category_col="category",
)
HORIZON = 8
WEEKS = 60
CUTOFF = WEEKS - 1 - HORIZON  # the default: the last `HORIZON` weeks are held out
LINE_UP = [
    "promoflow",
    "history_lift",
    "plain_lightgbm",
    "naive",
    "moving_average_4",
    "seasonal_naive_52",
    "auto_ets",
]


def small_retailer(items: int = 8, stores: int = 3, seed: int = 5) -> pl.DataFrame:
    """24 series of 60 weeks: a price cut of a quarter lifts sales 1.7x, two categories."""
    rng = np.random.default_rng(seed)
    rows = []
    for item in range(items):
        price = round(float(rng.uniform(2.0, 5.0)), 2)
        for store in range(stores):
            level = float(rng.uniform(5.0, 40.0))
            for week in range(WEEKS):
                on_promo = bool(rng.random() < 0.2)
                mean = level * (1.7 if on_promo else 1.0) * (1 + 0.2 * np.sin(week / 8))
                rows.append(
                    {
                        "item": f"I{item}",
                        "store": store,
                        "week": date(2024, 1, 1) + timedelta(weeks=week),
                        "units": float(rng.poisson(mean)),
                        "price": price * (0.75 if on_promo else 1.0),
                        "on_promo": on_promo,
                        "category": "dairy" if item % 2 else "snacks",
                    }
                )
    return pl.DataFrame(rows)


def held_out_changed(panel: Panel, change: pl.Expr) -> Panel:
    """`panel` with every target after the cutoff replaced by `change` (of pl.col("y"))."""
    after = pl.col("ds") > CUTOFF
    return replace(
        panel, frame=panel.frame.with_columns(pl.when(after).then(change).otherwise("y"))
    )


@pytest.fixture(scope="module")
def runs() -> list[BacktestResult]:
    panel = build_panel(small_retailer(), SPEC).panel
    variants = [
        panel,
        held_out_changed(panel, pl.col("y") * 10),
        held_out_changed(panel, pl.col("y") + 7),
    ]
    return [run_backtest(p, HORIZON) for p in variants]


def forecasts(result: BacktestResult, model: str) -> pl.DataFrame:
    return (
        result.predictions.filter(pl.col("model") == model)
        .select("unique_id", "ds", "forecast", "p10", "p90")
        .sort("unique_id", "ds")
    )


def test_the_panel_holds_every_model_and_the_perturbation_reaches_the_scored_rows(
    runs: list[BacktestResult],
) -> None:
    plain, times_ten, plus_seven = runs
    assert [s.model for s in plain.scores] == LINE_UP
    assert plain.summary["cutoff"] == "2024-12-23"
    assert plain.summary["scored_rows"] == 24 * HORIZON
    actual = plain.predictions.filter(pl.col("model") == "naive")["actual"]
    assert (times_ten.predictions.filter(pl.col("model") == "naive")["actual"] == actual * 10).all()
    assert (plus_seven.predictions.filter(pl.col("model") == "naive")["actual"] == actual + 7).all()


@pytest.mark.parametrize("model", LINE_UP)
def test_no_model_reads_the_held_out_actuals(runs: list[BacktestResult], model: str) -> None:
    plain, times_ten, plus_seven = (forecasts(r, model) for r in runs)
    assert plain.height == 24 * HORIZON
    assert plain.equals(times_ten), f"{model}'s forecasts moved when held-out actuals were x10"
    assert plain.equals(plus_seven), f"{model}'s forecasts moved when held-out actuals were +7"

"""The rolling-origin backtest: which cutoffs, what is averaged, what is refused."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl
import pytest

from promoflow.forecasting.backtest import write_predictions
from promoflow.forecasting.dataset import LoadedPanel, build_panel
from promoflow.forecasting.metrics import METRIC_NAMES
from promoflow.forecasting.models import model_scores
from promoflow.forecasting.panel import Panel, PanelSpec
from promoflow.forecasting.rolling import RollingResult, origin_cutoffs, run_rolling_backtest
from promoflow.kit.errors import InvalidInput

SPEC = PanelSpec(
    id_cols=("item",),
    time_col="week",
    target="units",
    known_covariates=("price", "on_promo"),
    promo_cols=("on_promo",),
    static_cols=("category",),
    category_col="category",
)
WEEKS = 60  # week numbers 1 .. 60: calendar positions (ds) 0 .. 59


class RecentMean:
    """Stand-in for our model: each series' mean of its last four weeks, +-20 %."""

    model_version = "recent-mean-1"

    def fit(self, history: Panel) -> RecentMean:
        self.level = history.frame.group_by("unique_id").agg(
            pl.col("y").sort_by("ds").tail(4).mean().alias("forecast")
        )
        return self

    def predict(self, future: pl.DataFrame) -> pl.DataFrame:
        return future.join(self.level, on="unique_id", how="left").select(
            "unique_id",
            "ds",
            "forecast",
            pl.col("forecast").alias("baseline"),
            (pl.col("forecast") * 0.8).alias("p10"),
            (pl.col("forecast") * 1.2).alias("p90"),
        )


def weekly_numbers(items: int = 6, seed: int = 3) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for item in range(items):
        level = float(rng.uniform(5.0, 30.0))
        for week in range(1, WEEKS + 1):
            on_promo = bool(rng.random() < 0.2)
            rows.append(
                {
                    "item": f"I{item}",
                    "week": week,
                    "units": float(rng.poisson(level * (1.6 if on_promo else 1.0))),
                    "price": 3.0 * (0.8 if on_promo else 1.0),
                    "on_promo": on_promo,
                    "category": "a" if item % 2 else "b",
                }
            )
    return pl.DataFrame(rows)


@pytest.fixture(scope="module")
def loaded() -> LoadedPanel:
    return build_panel(weekly_numbers(), SPEC)


@pytest.fixture(scope="module")
def rolled(loaded: LoadedPanel) -> RollingResult:
    return run_rolling_backtest(loaded.panel, horizon=6, origins=3, model_factory=RecentMean)


def test_origins_end_at_the_last_possible_cutoff_one_horizon_apart(rolled: RollingResult) -> None:
    # The last cutoff leaves 6 weeks to score: week 54 (ds 53); then 48 and 42.
    assert rolled.cutoffs == [41, 47, 53]
    assert [o.summary["cutoff"] for o in rolled.origins] == [42, 48, 54]
    data = rolled.to_json()["data"]
    assert (data["cutoffs"], data["cutoff"], data["origins"], data["step"]) == (
        [42, 48, 54],
        54,
        3,
        6,
    )
    assert (data["first_scored_period"], data["last_scored_period"]) == (43, 60)
    assert data["scored_rows"] == sum(o.summary["scored_rows"] for o in rolled.origins) == 108


def test_every_metric_is_the_mean_of_the_origins_metrics(rolled: RollingResult) -> None:
    document = rolled.to_json()
    names = [m["model"] for m in document["models"]]
    assert names == [
        "promoflow",
        "history_lift",
        "plain_lightgbm",
        "naive",
        "moving_average_4",
        "auto_ets",
    ]
    for entry in document["models"]:
        per_origin = [
            next(m for m in origin["models"] if m["model"] == entry["model"])
            for origin in document["origins"]
        ]
        assert entry["origins_scored"] == 3
        for metric in METRIC_NAMES:
            defined = [m[metric] for m in per_origin if m[metric] is not None]
            if defined:
                assert entry[metric] == pytest.approx(np.mean(defined), abs=1e-6), metric
            else:
                assert entry[metric] is None, metric
    lightgbm = next(m for m in document["models"] if m["model"] == "plain_lightgbm")
    assert lightgbm["coverage_80_promo"] is None  # no interval at any origin


def test_the_comparison_and_the_verdict_use_the_means(rolled: RollingResult) -> None:
    document = rolled.to_json()
    means = {m["model"]: m["wape_promo"] for m in document["models"]}
    yardsticks = {m: v for m, v in means.items() if m != "promoflow"}
    best = min(yardsticks, key=yardsticks.__getitem__)
    assert (document["best_baseline"], document["best_baseline_by"]) == (best, "wape_promo")
    ours, theirs = means["promoflow"], yardsticks[best]
    assert document["improvement_over_best_baseline_pct"] == pytest.approx(
        100 * (theirs - ours) / theirs, abs=0.01
    )
    won = sum(
        min(origin["models"], key=lambda m: m["wape_promo"])["model"] == "promoflow"
        for origin in document["origins"]
    )
    assert document["verdict"].endswith(f"(mean over 3 origins; promoflow best at {won} of 3)")
    assert sum(m["origins_won"] for m in document["models"]) >= 3
    # `promoflow models register --metrics` reads our entry from the same "models" list.
    assert model_scores(document, "promoflow") == document["models"][0]


def test_a_chosen_step_and_last_cutoff(loaded: LoadedPanel) -> None:
    rolled = run_rolling_backtest(
        loaded.panel, 4, 3, step=2, last_cutoff="50", model_factory=RecentMean, comparators=False
    )
    assert rolled.summary["cutoffs"] == [46, 48, 50]
    assert [s.model for s in rolled.scores][:2] == ["promoflow", "naive"]


def test_a_baseline_missing_at_some_origins_is_averaged_where_it_ran_and_not_ranked(
    loaded: LoadedPanel,
) -> None:
    # A 45-week season needs 45 weeks of history: not there at the cutoff of week 42.
    rolled = run_rolling_backtest(
        loaded.panel, 6, 3, season_length=45, model_factory=RecentMean, comparators=False
    )
    document = rolled.to_json()
    seasonal = next(m for m in document["models"] if m["model"] == "seasonal_naive_45")
    assert seasonal["origins_scored"] == 2
    assert document["best_baseline"] != "seasonal_naive_45"
    assert [(s["model"], s["cutoffs"]) for s in document["skipped_models"]] == [
        ("seasonal_naive_45", [42])
    ]
    assert "(at 1 of 3 origins)" in rolled.skipped[0].reason


def test_predictions_name_each_rows_origin(
    tmp_path: Path, loaded: LoadedPanel, rolled: RollingResult
) -> None:
    path = tmp_path / "predictions.csv"
    write_predictions(rolled, loaded, path)
    written = pl.read_csv(path)
    assert written.columns[:3] == ["item", "week", "cutoff"]
    ours = written.filter(pl.col("model") == "promoflow")
    assert ours.group_by("cutoff").len().sort("cutoff").rows() == [(42, 36), (48, 36), (54, 36)]
    assert (ours["week"] > ours["cutoff"]).all()


@pytest.mark.parametrize(
    ("origins", "step", "last", "field", "value", "says"),
    [
        (0, None, None, "origins", 0, "must be 1 or more"),
        (3, 0, None, "step", 0, "must be 1 or more"),
        # 9 origins 6 weeks apart from week 54 would start at week 6: 6 weeks to train on.
        (9, None, None, "origins", 9, "leaving 6 training periods, fewer than 8; use at most 8"),
        (3, 25, None, "step", 25, "use a step of at most 23"),
        (1, None, "5", "cutoff", "5", "leaves 5 training periods"),
    ],
)
def test_origins_that_leave_too_little_history_are_refused(
    loaded: LoadedPanel,
    origins: int,
    step: int | None,
    last: str | None,
    field: str,
    value: object,
    says: str,
) -> None:
    with pytest.raises(InvalidInput) as caught:
        origin_cutoffs(loaded.panel, 6, origins, step, last)
    assert (caught.value.field, caught.value.value) == (field, value)
    assert says in caught.value.reason
    with pytest.raises(InvalidInput):
        run_rolling_backtest(loaded.panel, 6, origins, step, last, model_factory=RecentMean)

"""The backtest on a synthetic retailer, with a stand-in model that knows the true lift.

Most tests leave the two comparators out (`comparators=False`): they are about the
rows and the baselines, and the comparators cost seconds. The line-up tests run them
on the same retailer with every week recorded.
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import polars as pl
import pytest

from forecast_support import DISPLAY_LIFT, PROMO_LIFT, synthetic_sales, with_integer_periods
from promoflow.forecasting import backtest
from promoflow.forecasting.backtest import (
    BacktestResult,
    ModelScore,
    run_backtest,
    verdict,
    write_predictions,
)
from promoflow.forecasting.baselines import baseline_clock
from promoflow.forecasting.comparators import HistoryLiftForecaster
from promoflow.forecasting.dataset import LoadedPanel, build_panel
from promoflow.forecasting.panel import Panel, PanelSpec
from promoflow.kit.errors import InvalidInput

SPEC = PanelSpec(
    id_cols=("item", "store"),
    time_col="week",
    target="units",
    known_covariates=("price", "on_promo", "display"),
    promo_cols=("on_promo", "display"),
    static_cols=("region",),
    censor_col="stockout",
)
BASELINES = ["naive", "moving_average_4", "seasonal_naive_52", "auto_ets"]
COMPARATORS = ["history_lift", "plain_lightgbm"]


class KnowsTheLift:
    """Stand-in for GlobalDemandModel: recent regular level x the generator's true lift."""

    model_version = "stand-in-1"

    def fit(self, history: Panel) -> KnowsTheLift:
        self.level = (
            history.frame.filter(
                pl.col("y").is_not_null() & ~pl.col("censored") & (pl.col("on_promo") == 0)
            )
            .group_by("unique_id")
            .agg(pl.col("y").tail(13).mean().alias("level"))
        )
        return self

    def predict(self, future: pl.DataFrame) -> pl.DataFrame:
        lift = pl.when(pl.col("on_promo") > 0).then(PROMO_LIFT).otherwise(1.0) * pl.when(
            pl.col("display") > 0
        ).then(DISPLAY_LIFT).otherwise(1.0)
        return (
            future.join(self.level, on="unique_id", how="left")
            .with_columns((pl.col("level") * lift).alias("forecast"))
            .select(
                "unique_id",
                "ds",
                "forecast",
                pl.col("level").alias("baseline"),
                (pl.col("forecast") * 0.7).alias("p10"),
                pl.col("forecast").alias("p50"),
                (pl.col("forecast") * 1.2).alias("p80"),
                (pl.col("forecast") * 1.3).alias("p90"),
            )
        )


@pytest.fixture(scope="module")
def loaded() -> LoadedPanel:
    return build_panel(synthetic_sales(), SPEC)


@pytest.fixture(scope="module")
def result(loaded: LoadedPanel) -> BacktestResult:
    return run_backtest(loaded.panel, horizon=13, model_factory=KnowsTheLift, comparators=False)


@pytest.fixture(scope="module")
def lineup() -> BacktestResult:
    panel = build_panel(synthetic_sales(), SPEC).panel
    rival = {"champion": KnowsTheLift}
    return run_backtest(panel, horizon=13, model_factory=KnowsTheLift, rivals=rival)


def test_every_model_is_scored_on_the_same_observed_uncensored_rows(
    loaded: LoadedPanel, result: BacktestResult
) -> None:
    data = result.summary
    assert [s.model for s in result.scores] == ["promoflow", *BASELINES]
    assert data["cutoff"] == "2025-04-07"  # 13 calendar periods before the last week
    assert data["held_out_rows"] == (
        data["scored_rows"]
        + data["censored_rows_left_out"]
        + data["unobserved_rows_left_out"]
        + data["new_series_rows_left_out"]
    )
    assert data["censored_rows_left_out"] > 0
    assert result.predictions.height == data["scored_rows"] * 5
    held_out = loaded.panel.frame.filter(pl.col("ds") > 65)
    scored = held_out.filter(~pl.col("censored") & pl.col("y").is_not_null())
    assert data["scored_rows"] == scored.height
    assert data["promo_rows"] == loaded.panel.promo_mask(scored).sum()


def test_a_model_that_knows_the_lift_beats_every_baseline_on_promotion_weeks(
    result: BacktestResult,
) -> None:
    by_model = {s.model: s.metrics for s in result.scores}
    ours = by_model["promoflow"]["wape_promo"]
    assert ours is not None
    assert all(ours < (by_model[b]["wape_promo"] or 0) for b in BASELINES)
    assert result.best_baseline in BASELINES
    assert result.improvement_pct is not None and result.improvement_pct > 20
    document = result.to_json()
    assert document["models"][0]["version"] == "stand-in-1"
    assert document["best_baseline"] == result.best_baseline
    assert document["verdict"].startswith(f"promoflow beats {result.best_baseline}, the best base")


def test_comparators_come_after_our_model_and_rivals_and_before_the_baselines(
    lineup: BacktestResult,
) -> None:
    assert [(s.model, s.kind) for s in lineup.scores] == [
        ("promoflow", "model"),
        ("champion", "model"),
        ("history_lift", "comparator"),
        ("plain_lightgbm", "comparator"),
        *[(b, "baseline") for b in BASELINES],
    ]
    rows = lineup.summary["scored_rows"]
    assert lineup.predictions.group_by("model").len()["len"].to_list() == [rows] * 8
    lightgbm = next(s for s in lineup.scores if s.model == "plain_lightgbm")
    assert lightgbm.version == "plain-lightgbm-1"
    assert lightgbm.metrics["coverage_80"] is None  # a first model has no interval


def test_our_model_is_judged_against_the_best_comparator_or_baseline(
    lineup: BacktestResult,
) -> None:
    by_model = {s.model: s.metrics["wape_promo"] for s in lineup.scores}
    yardsticks = {m: by_model[m] or 1.0 for m in [*COMPARATORS, *BASELINES]}
    best = min(yardsticks, key=yardsticks.__getitem__)
    assert (lineup.best_baseline, lineup.best_baseline_by) == (best, "wape_promo")
    # history_lift measures the lift on past promotions, as the stand-in knows it.
    assert best in COMPARATORS
    ours, theirs = by_model["promoflow"], yardsticks[best]
    assert ours is not None
    assert lineup.improvement_pct == pytest.approx(100 * (theirs - ours) / theirs, abs=0.01)
    document = lineup.to_json()
    assert document["best_baseline"] == best
    assert f"{best}, the best comparator, on promotion-week WAPE: {ours:.3f}" in document["verdict"]
    assert f"against {theirs:.3f}" in document["verdict"]


class RefusesGaps:
    """A comparator that cannot fit series with a missing period (as mlforecast's)."""

    model_version = "refuses-gaps-1"

    def fit(self, history: Panel) -> RefusesGaps:
        raise ValueError("Series contain missing timestamps\nAffected series: ['SKU-1|1']")

    def predict(self, future: pl.DataFrame) -> pl.DataFrame:
        raise AssertionError("never fitted")


def test_a_comparator_that_cannot_run_on_the_data_is_skipped_with_why(
    loaded: LoadedPanel, monkeypatch: pytest.MonkeyPatch
) -> None:
    comparators = {"history_lift": HistoryLiftForecaster, "fussy": RefusesGaps}
    monkeypatch.setattr(backtest, "default_comparators", lambda: comparators)
    result = run_backtest(loaded.panel, horizon=13, model_factory=KnowsTheLift)
    assert [s.model for s in result.scores] == ["promoflow", "history_lift", *BASELINES]
    assert result.to_json()["skipped_models"] == [
        {
            "model": "fussy",
            "reason": "could not run on this data: Series contain missing timestamps",
        }
    ]


def score(model: str, kind: str, wape_promo: float | None, wape: float = 0.5) -> ModelScore:
    return ModelScore(model, kind, {"wape": wape, "wape_promo": wape_promo}, 1.0)


def test_the_verdict_says_who_wins_with_both_figures_and_the_gap() -> None:
    loses = [score("promoflow", "model", 0.556), score("plain_lightgbm", "comparator", 0.475)]
    assert verdict(loses, "plain_lightgbm", "wape_promo") == (
        "promoflow loses to plain_lightgbm, the best comparator, on promotion-week WAPE: "
        "0.556 against 0.475 (17.1 % worse)"
    )
    beats = [score("promoflow", "model", 0.3), score("naive", "baseline", 0.4)]
    assert verdict(beats, "naive", "wape_promo") == (
        "promoflow beats naive, the best baseline, on promotion-week WAPE: "
        "0.300 against 0.400 (25.0 % better)"
    )
    ties = [score("promoflow", "model", None, 0.4), score("naive", "baseline", None, 0.4)]
    assert "ties with naive, the best baseline, on WAPE: 0.400" in verdict(ties, "naive", "wape")
    assert "could not be compared" in verdict(ties[:1], None, "wape")


def test_interval_less_baseline_has_null_coverage(result: BacktestResult) -> None:
    moving = next(s for s in result.scores if s.model == "moving_average_4")
    assert moving.metrics["coverage_80"] is None
    assert moving.metrics["interval_width_80"] is None
    naive = next(s for s in result.scores if s.model == "naive")
    assert naive.metrics["coverage_80"] is not None


def test_integer_periods_have_no_seasonal_naive_unless_asked() -> None:
    panel = build_panel(with_integer_periods(synthetic_sales(items=2, stores=2)), SPEC).panel
    plain = run_backtest(panel, horizon=8, model_factory=KnowsTheLift, comparators=False)
    assert [s.model for s in plain.scores] == [
        "promoflow",
        "naive",
        "moving_average_4",
        "auto_ets",
    ]
    assert plain.summary["cutoff"] == 72
    asked = run_backtest(
        panel, 8, "40", season_length=4, model_factory=KnowsTheLift, comparators=False
    )
    assert "seasonal_naive_4" in [s.model for s in asked.scores]
    # Week 41 is absent from the file, so the next 8 periods are 42 .. 49.
    data = asked.summary
    assert (data["cutoff"], data["first_scored_period"], data["last_scored_period"]) == (40, 42, 49)


def test_seasonal_naive_counts_real_weeks_across_a_gap_in_the_calendar() -> None:
    pattern = [10.0, 20.0, 30.0, 40.0]
    weeks = [date(2025, 1, 6) + timedelta(weeks=w) for w in range(24) if w != 9]
    sales = pl.DataFrame(
        {
            "item": "A",
            "store": 1,
            "week": weeks,
            "units": [pattern[((w - date(2025, 1, 6)).days // 7) % 4] for w in weeks],
            "price": 1.0,
            "on_promo": False,
            "display": 0,
            "stockout": False,
            "region": "North",
        }
    )
    panel = build_panel(sales, SPEC).panel
    assert baseline_clock(panel.calendar)["t"].to_list()[8:11] == [8, 10, 11]
    result = run_backtest(
        panel, horizon=4, season_length=4, model_factory=KnowsTheLift, comparators=False
    )
    seasonal = next(s for s in result.scores if s.model == "seasonal_naive_4")
    assert seasonal.metrics["wape"] == pytest.approx(0.0)


def test_series_too_short_for_a_window_take_the_naive_forecast() -> None:
    sales = synthetic_sales(items=1, stores=2, weeks=30)
    # Store 2 opened lately: two or three weeks before the cutoff, under the window of 4.
    late_starter = sales.filter(pl.col("store") == 2).sort("week").tail(6)
    panel = build_panel(pl.concat([sales.filter(pl.col("store") == 1), late_starter]), SPEC).panel
    result = run_backtest(panel, horizon=4, model_factory=KnowsTheLift, comparators=False)
    moving = next(s for s in result.scores if s.model == "moving_average_4")
    assert moving.fallback_rows == 4
    rows = result.predictions.filter(pl.col("unique_id") == "SKU-1|2")
    by_model = rows.pivot(on="model", index="ds", values="forecast")
    assert by_model["moving_average_4"].to_list() == by_model["naive"].to_list()


def test_bad_season_length_is_refused(loaded: LoadedPanel) -> None:
    with pytest.raises(InvalidInput) as caught:
        run_backtest(loaded.panel, horizon=13, season_length=1, model_factory=KnowsTheLift)
    assert (caught.value.field, caught.value.value) == ("season_length", 1)


def test_predictions_carry_the_files_own_ids_and_periods(
    tmp_path: Path, loaded: LoadedPanel, result: BacktestResult
) -> None:
    path = tmp_path / "predictions.parquet"
    write_predictions(result, loaded, path)
    written = pl.read_parquet(path)
    assert written.columns == [
        "item",
        "store",
        "week",
        "actual",
        "model",
        "forecast",
        "p10",
        "p90",
        "on_promotion",
    ]
    assert written.schema["store"] == pl.Int64
    assert written.schema["week"] == pl.Date
    assert written.height == result.summary["scored_rows"] * 5
    assert written.group_by("model").len()["len"].unique().to_list() == [
        result.summary["scored_rows"]
    ]

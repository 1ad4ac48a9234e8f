"""Backtest our demand model against the baselines on a held-out window of a Panel.

One cutoff for all series: fit on periods <= cutoff, forecast the next `horizon`
calendar periods, score the held-out rows whose actual is observed and not
censored (a stockout caps sales, so its actual is not demand), for every model
on the same rows.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import polars as pl

from promoflow.forecasting.baselines import (
    BaselineForecast,
    Skipped,
    default_season_length,
    run_baselines,
)
from promoflow.forecasting.dataset import LoadedPanel, cutoff_position, period_value, split_panel
from promoflow.forecasting.metrics import accuracy, naive_scale
from promoflow.forecasting.panel import Panel
from promoflow.kit.errors import InvalidInput

OUR_MODEL = "promoflow"
PREDICTION_FORMATS = (".csv", ".parquet")


class DemandModel(Protocol):
    """What the backtest needs of a model (GlobalDemandModel's shape)."""

    model_version: str

    def fit(self, history: Panel) -> Any:
        """Learn from `history` (periods up to the cutoff)."""
        ...

    def predict(self, future: pl.DataFrame) -> pl.DataFrame:
        """unique_id, ds, forecast, p10, p90 (and more) for each future row."""
        ...


@dataclass(frozen=True)
class ModelScore:
    """One model's accuracy on the scored rows, and what it cost."""

    model: str
    kind: str  # "model" or "baseline"
    metrics: dict[str, float | None]
    seconds: float
    version: str | None = None
    fallback_rows: int = 0


@dataclass(frozen=True)
class BacktestResult:
    """Everything a backtest reports; `predictions` has one row per scored row per model."""

    summary: dict[str, Any]
    scores: list[ModelScore]
    predictions: pl.DataFrame
    skipped: list[Skipped] = field(default_factory=list)
    best_baseline: str | None = None
    best_baseline_by: str = "wape_promo"
    improvement_pct: float | None = None

    def to_json(self) -> dict[str, Any]:
        """The metrics.json document."""
        return {
            "data": self.summary,
            "models": [
                {
                    "model": s.model,
                    "kind": s.kind,
                    "version": s.version,
                    **{k: _rounded(v) for k, v in s.metrics.items()},
                    "seconds": round(s.seconds, 3),
                    "fallback_rows": s.fallback_rows,
                }
                for s in self.scores
            ],
            "skipped_models": [{"model": s.model, "reason": s.reason} for s in self.skipped],
            "best_baseline": self.best_baseline,
            "best_baseline_by": self.best_baseline_by,
            "improvement_over_best_baseline_pct": self.improvement_pct,
        }


def run_backtest(
    panel: Panel,
    horizon: int,
    cutoff: Any = None,
    season_length: int | None = None,
    model_factory: Callable[[], DemandModel] | None = None,
    rivals: Mapping[str, Callable[[], DemandModel]] | None = None,
) -> BacktestResult:
    """Hold out `horizon` periods after `cutoff` (default: the last ones) and score.

    `rivals` are other models scored on the same rows under their own names (the
    training command re-scores the champion's recipe here, so a challenger is
    judged against it on the same data and cutoff).
    """
    if season_length is not None and season_length < 2:
        raise InvalidInput("season_length", season_length, "must be 2 or more")
    position = cutoff_position(panel, horizon, cutoff)
    train, held_out = split_panel(panel, position, horizon)
    held_out = held_out.with_columns(panel.promo_mask(held_out))
    # Series with no usable history cannot be forecast by any model: left out for all.
    forecastable = held_out.join(_series_with_history(train.frame), on="unique_id", how="semi")
    scored = forecastable.filter(pl.col("y").is_not_null() & ~pl.col("censored")).select(
        "unique_id", "ds", pl.col("y").alias("actual"), "on_promotion"
    )
    scale = naive_scale(train.frame)
    season = season_length or default_season_length(panel)
    ours = _run_model(model_factory or default_model, train, forecastable)
    baselines, skipped = run_baselines(train, position, horizon, season)
    scores: list[ModelScore] = []
    tables: list[pl.DataFrame] = []
    others = [
        (name, "model", _run_model(f, train, forecastable)) for name, f in (rivals or {}).items()
    ]
    runs = [
        (OUR_MODEL, "model", ours),
        *others,
        *[(b.model, "baseline", _as_run(b)) for b in baselines],
    ]
    for name, kind, run in runs:
        rows = _score_rows(scored, run.forecasts, name)
        tables.append(rows)
        scores.append(
            ModelScore(
                name, kind, accuracy(rows, scale), run.seconds, run.version, run.fallback_rows
            )
        )
    summary = _summary(panel, held_out, forecastable, scored, position, horizon, season)
    best, by, improvement = _compare(scores)
    return BacktestResult(summary, scores, pl.concat(tables), skipped, best, by, improvement)


@dataclass(frozen=True)
class _Run:
    forecasts: pl.DataFrame
    seconds: float
    version: str | None = None
    fallback_rows: int = 0


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 6)


def default_model() -> DemandModel:
    """Our GlobalDemandModel with its default configuration."""
    # Imported here so loading the backtest (and the CLI) does not load LightGBM.
    from promoflow.forecasting.model import GlobalDemandModel

    return GlobalDemandModel()


def _run_model(factory: Callable[[], DemandModel], train: Panel, test: pl.DataFrame) -> _Run:
    """Fit on `train`, predict `test`'s rows from their known covariates; time both."""
    future = test.select("unique_id", "ds", *train.spec.known_covariates)
    model = factory()
    started = time.perf_counter()
    model.fit(train)
    predicted = model.predict(future)
    seconds = time.perf_counter() - started
    return _Run(
        predicted.select("unique_id", "ds", "forecast", "p10", "p90"), seconds, model.model_version
    )


def _as_run(baseline: BaselineForecast) -> _Run:
    return _Run(baseline.forecasts, baseline.seconds, None, baseline.fallback_rows)


def _series_with_history(train: pl.DataFrame) -> pl.DataFrame:
    """Series with at least one observed, uncensored period up to the cutoff."""
    usable = train.filter(pl.col("y").is_not_null() & ~pl.col("censored"))
    return usable.select("unique_id").unique()


def _score_rows(scored: pl.DataFrame, forecasts: pl.DataFrame, model: str) -> pl.DataFrame:
    rows = scored.join(forecasts, on=["unique_id", "ds"], how="left").with_columns(
        pl.lit(model).alias("model")
    )
    missing = rows["forecast"].null_count()
    if missing:
        raise RuntimeError(f"model {model} gave no forecast for {missing} scored rows")
    return rows.select(
        "unique_id", "ds", "actual", "model", "forecast", "p10", "p90", "on_promotion"
    )


def _summary(
    panel: Panel,
    held_out: pl.DataFrame,
    forecastable: pl.DataFrame,
    scored: pl.DataFrame,
    cutoff: int,
    horizon: int,
    season: int | None,
) -> dict[str, Any]:
    """The data, the window and how many held-out rows were left out and why."""
    observed = forecastable.filter(pl.col("y").is_not_null())
    return {
        "rows": panel.frame.height,
        "series": panel.frame["unique_id"].n_unique(),
        "periods": panel.calendar.height,
        "first_period": period_value(panel, 0),
        "last_period": period_value(panel, panel.calendar.height - 1),
        "cutoff": period_value(panel, cutoff),
        "horizon": horizon,
        "first_scored_period": period_value(panel, cutoff + 1),
        "last_scored_period": period_value(panel, cutoff + horizon),
        "season_length": season,
        "held_out_rows": held_out.height,
        "scored_rows": scored.height,
        "promo_rows": int(scored["on_promotion"].sum()),
        "censored_rows_left_out": int(observed["censored"].sum()),
        "unobserved_rows_left_out": forecastable.height - observed.height,
        "new_series_rows_left_out": held_out.height - forecastable.height,
    }


def _compare(scores: list[ModelScore]) -> tuple[str | None, str, float | None]:
    """The best baseline (by promotion-period WAPE, else overall) and our gain over it."""
    ours = next(s for s in scores if s.kind == "model")
    baselines = [s for s in scores if s.kind == "baseline"]
    by = "wape_promo" if ours.metrics["wape_promo"] is not None else "wape"
    ranked = [s for s in baselines if s.metrics[by] is not None]
    if not ranked:
        return None, by, None
    best = min(ranked, key=lambda s: s.metrics[by] or 0.0)
    theirs, mine = best.metrics[by], ours.metrics[by]
    if not theirs or mine is None:
        return best.model, by, None
    return best.model, by, round(100 * (theirs - mine) / theirs, 2)


def check_output_path(path: Path, field_name: str, formats: tuple[str, ...] = ()) -> None:
    """Refuse an output path we cannot write, before any work is done."""
    if formats and path.suffix.lower() not in formats:
        raise InvalidInput(field_name, str(path), f"use a {' or '.join(formats)} file")
    if not path.parent.is_dir():
        raise InvalidInput(field_name, str(path), "its folder does not exist; create it first")


def write_metrics(result: BacktestResult, path: Path) -> None:
    """metrics.json: the data summary, every model's metrics and the comparison."""
    path.write_text(json.dumps(result.to_json(), indent=2) + "\n")


def write_predictions(result: BacktestResult, loaded: LoadedPanel, path: Path) -> None:
    """Every scored row per model, keyed by the file's own id and time columns."""
    spec = loaded.panel.spec
    rows = (
        result.predictions.join(loaded.series_keys, on="unique_id", how="left")
        .join(loaded.panel.calendar, on="ds", how="left")
        .select(
            *spec.id_cols,
            pl.col("period").alias(spec.time_col),
            "actual",
            "model",
            "forecast",
            "p10",
            "p90",
            "on_promotion",
        )
        .sort("model", *spec.id_cols, spec.time_col)
    )
    if path.suffix.lower() == ".csv":
        rows.write_csv(path)
    else:
        rows.write_parquet(path)

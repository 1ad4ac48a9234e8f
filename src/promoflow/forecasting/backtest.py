"""Backtest our demand model against comparators and baselines on a held-out window.

One cutoff for all series: fit on periods <= cutoff, forecast the next `horizon`
calendar periods, score the held-out rows whose actual is observed and not
censored (a stockout caps sales, so its actual is not demand), for every model
on the same rows. The line-up: our model, any rivals, the two comparators a
retailer already has (comparators.py), then the statsforecast baselines; our
model is judged against the best of the comparators and baselines.
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
# What the verdict calls each ranking measure.
MEASURES = {"wape_promo": "promotion-week WAPE", "wape": "WAPE"}


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
    kind: str  # "model", "comparator" or "baseline"
    metrics: dict[str, float | None]
    seconds: float
    version: str | None = None
    fallback_rows: int = 0
    # A model that searched its recipe (recipe.py): the chosen one and every candidate.
    recipe_search: dict[str, Any] | None = None


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

    @property
    def verdict(self) -> str:
        """One sentence: does our model beat the best comparator or baseline, and by how much."""
        return verdict(self.scores, self.best_baseline, self.best_baseline_by)

    def to_json(self) -> dict[str, Any]:
        """The metrics.json document."""
        return {
            "data": self.summary,
            "models": [score_entry(s) for s in self.scores],
            "skipped_models": [{"model": s.model, "reason": s.reason} for s in self.skipped],
            "best_baseline": self.best_baseline,
            "best_baseline_by": self.best_baseline_by,
            "improvement_over_best_baseline_pct": self.improvement_pct,
            "verdict": self.verdict,
        }


def score_entry(score: ModelScore) -> dict[str, Any]:
    """One model's entry of a metrics.json "models" list."""
    return {
        "model": score.model,
        "kind": score.kind,
        "version": score.version,
        **{k: _rounded(v) for k, v in score.metrics.items()},
        "seconds": round(score.seconds, 3),
        "fallback_rows": score.fallback_rows,
        **({"recipe_search": score.recipe_search} if score.recipe_search else {}),
    }


def run_backtest(
    panel: Panel,
    horizon: int,
    cutoff: Any = None,
    season_length: int | None = None,
    model_factory: Callable[[], DemandModel] | None = None,
    rivals: Mapping[str, Callable[[], DemandModel]] | None = None,
    comparators: bool = True,
) -> BacktestResult:
    """Hold out `horizon` periods after `cutoff` (default: the last ones) and score.

    `rivals` are other models scored on the same rows under their own names (the
    training command re-scores the champion's recipe here, so a challenger is
    judged against it on the same data and cutoff). `comparators=False` leaves
    out the two comparators, for callers that need speed over a fair verdict.
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
    ours = _run_model(model_factory or (lambda: default_model(horizon)), train, forecastable)
    baselines, skipped = run_baselines(train, position, horizon, season)
    scores: list[ModelScore] = []
    tables: list[pl.DataFrame] = []
    others = [
        (name, "model", _run_model(f, train, forecastable)) for name, f in (rivals or {}).items()
    ]
    theirs, refused = _run_comparators(train, forecastable) if comparators else ([], [])
    runs = [
        (OUR_MODEL, "model", ours),
        *others,
        *theirs,
        *[(b.model, "baseline", _as_run(b)) for b in baselines],
    ]
    for name, kind, run in runs:
        rows = _score_rows(scored, run.forecasts, name)
        tables.append(rows)
        scores.append(
            ModelScore(
                name,
                kind,
                accuracy(rows, scale),
                run.seconds,
                run.version,
                run.fallback_rows,
                run.recipe_search,
            )
        )
    summary = _summary(panel, held_out, forecastable, scored, position, horizon, season)
    best, by, improvement = compare(scores)
    return BacktestResult(
        summary, scores, pl.concat(tables), [*refused, *skipped], best, by, improvement
    )


@dataclass(frozen=True)
class _Run:
    forecasts: pl.DataFrame
    seconds: float
    version: str | None = None
    fallback_rows: int = 0
    recipe_search: dict[str, Any] | None = None


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 6)


def default_model(horizon: int = 13) -> DemandModel:
    """Our model as training builds it: the recipe searched on the training window's own weeks."""
    # Imported here so loading the backtest (and the CLI) does not load LightGBM.
    from promoflow.forecasting.recipe import SearchedDemandModel

    return SearchedDemandModel(horizon=horizon)


def default_comparators() -> dict[str, Callable[[], DemandModel]]:
    """The two comparators a retailer already has, by name, in the line-up's order."""
    from promoflow.forecasting.comparators import (
        HISTORY_LIFT,
        PLAIN_LIGHTGBM,
        HistoryLiftForecaster,
        PlainLightGBM,
    )

    return {HISTORY_LIFT: HistoryLiftForecaster, PLAIN_LIGHTGBM: PlainLightGBM}


def _run_model(factory: Callable[[], DemandModel], train: Panel, test: pl.DataFrame) -> _Run:
    """Fit on `train`, predict `test`'s rows from their known covariates; time both."""
    future = test.select("unique_id", "ds", *train.spec.known_covariates)
    model = factory()
    started = time.perf_counter()
    model.fit(train)
    predicted = model.predict(future)
    seconds = time.perf_counter() - started
    search = getattr(model, "search", None)
    return _Run(
        predicted.select("unique_id", "ds", "forecast", "p10", "p90"),
        seconds,
        model.model_version,
        recipe_search=None if search is None else search.to_json(),
    )


def _run_comparators(
    train: Panel, test: pl.DataFrame
) -> tuple[list[tuple[str, str, _Run]], list[Skipped]]:
    """Each comparator's run, or why it could not run on this data.

    A comparator's own limits (mlforecast refuses a series with a missing period)
    must not cost the retailer the whole backtest: the comparator is listed as
    skipped with the reason, which metrics.json and the command both show.
    """
    runs: list[tuple[str, str, _Run]] = []
    refused: list[Skipped] = []
    for name, factory in default_comparators().items():
        try:
            runs.append((name, "comparator", _run_model(factory, train, test)))
        except ValueError as error:
            said = str(error).strip().splitlines()[0] if str(error).strip() else repr(error)
            refused.append(Skipped(name, f"could not run on this data: {said}"))
    return runs, refused


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


def compare(
    scores: list[ModelScore], eligible: Callable[[ModelScore], bool] | None = None
) -> tuple[str | None, str, float | None]:
    """The best comparator or baseline (by promotion-period WAPE, else overall) and our gain.

    `eligible` narrows the candidates (the rolling backtest ranks only models scored
    at every origin).
    """
    ours = next(s for s in scores if s.kind == "model")
    yardsticks = [s for s in scores if s.kind in ("comparator", "baseline")]
    by = "wape_promo" if ours.metrics["wape_promo"] is not None else "wape"
    ranked = [
        s for s in yardsticks if s.metrics[by] is not None and (eligible is None or eligible(s))
    ]
    if not ranked:
        return None, by, None
    best = min(ranked, key=lambda s: s.metrics[by] or 0.0)
    theirs, mine = best.metrics[by], ours.metrics[by]
    if not theirs or mine is None:
        return best.model, by, None
    return best.model, by, round(100 * (theirs - mine) / theirs, 2)


def verdict(scores: list[ModelScore], best: str | None, by: str, note: str = "") -> str:
    """Plain words for the comparison: who wins on `by`, both figures, how far apart."""
    if best is None:
        return f"{OUR_MODEL} could not be compared: no comparator or baseline has a {by}"
    ours = next(s for s in scores if s.kind == "model")
    rival = next(s for s in scores if s.model == best)
    measure = MEASURES.get(by, by)
    named = f"{best}, the best {rival.kind},"
    mine, theirs = ours.metrics[by], rival.metrics[by]
    if mine is None or theirs is None:
        return f"{OUR_MODEL} has no {measure} on these rows to set against {named[:-1]}{note}"
    figures = f"{mine:.3f} against {theirs:.3f}"
    if not theirs:
        return f"{OUR_MODEL} against {named} on {measure}: {figures}{note}"
    gap = 100 * abs(theirs - mine) / theirs
    apart = f"{gap:.1f} %" if gap >= 0.05 else "under 0.1 %"
    if mine < theirs:
        said = f"beats {named} on {measure}: {figures} ({apart} better)"
    elif mine > theirs:
        said = f"loses to {named} on {measure}: {figures} ({apart} worse)"
    else:
        said = f"ties with {named} on {measure}: {figures}"
    return f"{OUR_MODEL} {said}{note}"


def check_output_path(path: Path, field_name: str, formats: tuple[str, ...] = ()) -> None:
    """Refuse an output path we cannot write, before any work is done."""
    if formats and path.suffix.lower() not in formats:
        raise InvalidInput(field_name, str(path), f"use a {' or '.join(formats)} file")
    if not path.parent.is_dir():
        raise InvalidInput(field_name, str(path), "its folder does not exist; create it first")


class Reported(Protocol):
    """A backtest that can write its metrics.json document (one origin or rolling)."""

    def to_json(self) -> dict[str, Any]:
        """The metrics.json document."""
        ...


def write_metrics(result: Reported, path: Path) -> None:
    """metrics.json: the data summary, every model's metrics and the comparison."""
    path.write_text(json.dumps(result.to_json(), indent=2) + "\n")


class Scored(Protocol):
    """A backtest's scored rows: one origin's, or every origin's with a `cutoff` (ds) column."""

    @property
    def predictions(self) -> pl.DataFrame:
        """One row per scored row per model."""
        ...


def write_predictions(result: Scored, loaded: LoadedPanel, path: Path) -> None:
    """Every scored row per model, keyed by the file's own id and time columns.

    A rolling backtest's rows also carry the origin's cutoff, as the file's period.
    """
    spec = loaded.panel.spec
    rows = result.predictions.join(loaded.series_keys, on="unique_id", how="left").join(
        loaded.panel.calendar, on="ds", how="left"
    )
    origin: list[str] = []
    if "cutoff" in rows.columns:
        cutoffs = loaded.panel.calendar.rename({"ds": "cutoff", "period": "_cutoff_period"})
        rows = rows.join(cutoffs, on="cutoff", how="left").with_columns(
            pl.col("_cutoff_period").alias("cutoff")
        )
        origin = ["cutoff"]
    rows = rows.select(
        *spec.id_cols,
        pl.col("period").alias(spec.time_col),
        *origin,
        "actual",
        "model",
        "forecast",
        "p10",
        "p90",
        "on_promotion",
    ).sort("model", *origin, *spec.id_cols, spec.time_col)
    if path.suffix.lower() == ".csv":
        rows.write_csv(path)
    else:
        rows.write_parquet(path)

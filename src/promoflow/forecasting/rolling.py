"""The backtest at several cutoffs (rolling origins), each model's metrics averaged over them.

One cutoff is one draw of weeks: a model can win it on a lucky quarter. Here
`run_backtest` runs at `origins` cutoffs `step` periods apart, the last at
`last_cutoff`; every origin is reported as it is, and each model's metrics are
the plain mean over the origins where they are defined (each origin weighs the
same, however many rows it scored). The comparison and the verdict are made on
those means, against the comparators and baselines scored at every origin.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import polars as pl

from promoflow.forecasting.backtest import (
    OUR_MODEL,
    BacktestResult,
    DemandModel,
    ModelScore,
    compare,
    run_backtest,
    score_entry,
    verdict,
)
from promoflow.forecasting.baselines import Skipped
from promoflow.forecasting.dataset import cutoff_position, period_value
from promoflow.forecasting.metrics import METRIC_NAMES
from promoflow.forecasting.panel import Panel
from promoflow.kit.errors import InvalidInput

# A model fitted on fewer periods than this says little about the next quarter.
MIN_TRAINING_PERIODS = 8
KIND_ORDER = {"model": 0, "comparator": 1, "baseline": 2}
# Counts in the single-origin summary that add up over origins.
SUMMED_COUNTS = (
    "held_out_rows",
    "scored_rows",
    "promo_rows",
    "censored_rows_left_out",
    "unobserved_rows_left_out",
    "new_series_rows_left_out",
)


@dataclass(frozen=True)
class RollingResult:
    """Each origin's backtest, and every model's metrics averaged over the origins."""

    cutoffs: list[int]  # ds of each origin's cutoff, earliest first
    step: int
    origins: list[BacktestResult]
    scores: list[ModelScore]  # metrics are means over origins
    origins_scored: dict[str, int]
    origins_won: dict[str, int]
    best_baseline: str | None = None
    best_baseline_by: str = "wape_promo"
    improvement_pct: float | None = None
    summary: dict[str, Any] = field(default_factory=dict)

    @property
    def predictions(self) -> pl.DataFrame:
        """Every origin's scored rows, with the origin's `cutoff` (its ds)."""
        return pl.concat(
            [
                origin.predictions.with_columns(pl.lit(cutoff, pl.Int64).alias("cutoff"))
                for cutoff, origin in zip(self.cutoffs, self.origins, strict=True)
            ]
        )

    @property
    def skipped(self) -> list[Skipped]:
        """Models skipped at some origin, once per reason, with how many origins."""
        found: dict[tuple[str, str], int] = {}
        for origin in self.origins:
            for gone in origin.skipped:
                found[gone.model, gone.reason] = found.get((gone.model, gone.reason), 0) + 1
        count = len(self.origins)
        return [
            Skipped(model, f"{reason} (at {times} of {count} origins)")
            for (model, reason), times in found.items()
        ]

    @property
    def verdict(self) -> str:
        """The single-origin verdict on the means, with how many origins our model won."""
        count = len(self.origins)
        won = self.origins_won.get(OUR_MODEL, 0)
        note = f" (mean over {count} origins; {OUR_MODEL} best at {won} of {count})"
        return verdict(self.scores, self.best_baseline, self.best_baseline_by, note)

    def to_json(self) -> dict[str, Any]:
        """metrics.json: the shape of a single origin's, plus every origin's own document."""
        skipped: dict[tuple[str, str], list[Any]] = {}
        for cutoff, origin in zip(self.summary["cutoffs"], self.origins, strict=True):
            for gone in origin.skipped:
                skipped.setdefault((gone.model, gone.reason), []).append(cutoff)
        return {
            "data": self.summary,
            "models": [
                {
                    **score_entry(s),
                    "origins_scored": self.origins_scored[s.model],
                    "origins_won": self.origins_won.get(s.model, 0),
                }
                for s in self.scores
            ],
            "skipped_models": [
                {"model": model, "reason": reason, "cutoffs": cutoffs}
                for (model, reason), cutoffs in skipped.items()
            ],
            "best_baseline": self.best_baseline,
            "best_baseline_by": self.best_baseline_by,
            "improvement_over_best_baseline_pct": self.improvement_pct,
            "verdict": self.verdict,
            "origins": [origin.to_json() for origin in self.origins],
        }


def run_rolling_backtest(
    panel: Panel,
    horizon: int,
    origins: int,
    step: int | None = None,
    last_cutoff: Any = None,
    season_length: int | None = None,
    model_factory: Callable[[], DemandModel] | None = None,
    rivals: Mapping[str, Callable[[], DemandModel]] | None = None,
    comparators: bool = True,
) -> RollingResult:
    """Backtest at `origins` cutoffs `step` periods apart ending at `last_cutoff`; average.

    `step` defaults to the horizon (windows that follow each other), `last_cutoff`
    to `horizon` periods before the end of the calendar.
    """
    cutoffs = origin_cutoffs(panel, horizon, origins, step, last_cutoff)
    runs = [
        run_backtest(
            panel,
            horizon,
            period_value(panel, cutoff),
            season_length,
            model_factory,
            rivals,
            comparators,
        )
        for cutoff in cutoffs
    ]
    scores, scored = _averaged(runs)
    best, by, improvement = compare(scores, lambda s: scored[s.model] == len(runs))
    return RollingResult(
        cutoffs=cutoffs,
        step=step or horizon,
        origins=runs,
        scores=scores,
        origins_scored=scored,
        origins_won=_wins(runs, by),
        best_baseline=best,
        best_baseline_by=by,
        improvement_pct=improvement,
        summary=_summary(panel, runs, cutoffs, step or horizon),
    )


def origin_cutoffs(
    panel: Panel, horizon: int, origins: int, step: int | None = None, last_cutoff: Any = None
) -> list[int]:
    """The cutoffs' ds, earliest first; refuses origins that leave too little to train on."""
    if origins < 1:
        raise InvalidInput("origins", origins, "must be 1 or more")
    if step is not None and step < 1:
        raise InvalidInput("step", step, "must be 1 or more")
    spacing = step or horizon
    last = cutoff_position(panel, horizon, last_cutoff)
    if last + 1 < MIN_TRAINING_PERIODS:
        flag, value = ("cutoff", last_cutoff) if last_cutoff is not None else ("horizon", horizon)
        raise InvalidInput(
            flag,
            value,
            f"leaves {last + 1} training periods before the last cutoff, fewer than "
            f"{MIN_TRAINING_PERIODS}",
        )
    earliest = last - spacing * (origins - 1)
    if earliest + 1 >= MIN_TRAINING_PERIODS:
        return [last - spacing * k for k in reversed(range(origins))]
    room = last + 1 - MIN_TRAINING_PERIODS
    shown = period_value(panel, earliest) if earliest >= 0 else "before the first period"
    said = (
        f"{origins} origins {spacing} periods apart put the earliest cutoff at {shown}, "
        f"leaving {max(earliest + 1, 0)} training periods, fewer than {MIN_TRAINING_PERIODS}"
    )
    # Blame the step only when the caller chose it and a smaller one would fit.
    if step is not None and room // (origins - 1) >= 1:
        raise InvalidInput(
            "step", step, f"{said}; use a step of at most {room // (origins - 1)} or fewer origins"
        )
    raise InvalidInput(
        "origins", origins, f"{said}; use at most {room // spacing + 1} origins or a smaller step"
    )


def _averaged(runs: list[BacktestResult]) -> tuple[list[ModelScore], dict[str, int]]:
    """Each model's mean metrics over the origins where each is defined; origins per model."""
    by_model: dict[str, list[ModelScore]] = {}
    for run in runs:
        for score in run.scores:
            by_model.setdefault(score.model, []).append(score)
    averaged = []
    for name, scores in by_model.items():
        metrics = {m: _mean([s.metrics.get(m) for s in scores]) for m in METRIC_NAMES}
        averaged.append(
            ModelScore(
                name,
                scores[0].kind,
                metrics,
                sum(s.seconds for s in scores) / len(scores),
                scores[0].version,
                sum(s.fallback_rows for s in scores),
            )
        )
    ordered = sorted(averaged, key=lambda s: KIND_ORDER.get(s.kind, len(KIND_ORDER)))
    return ordered, {name: len(scores) for name, scores in by_model.items()}


def _mean(values: list[float | None]) -> float | None:
    defined = [v for v in values if v is not None]
    return sum(defined) / len(defined) if defined else None


def _wins(runs: list[BacktestResult], by: str) -> dict[str, int]:
    """Per model, the origins at which its `by` was the lowest of every model's (ties share)."""
    wins: dict[str, int] = {}
    for run in runs:
        figures = {s.model: s.metrics[by] for s in run.scores if s.metrics[by] is not None}
        if not figures:
            continue
        lowest = min(v for v in figures.values() if v is not None)
        for model, value in figures.items():
            if value == lowest:
                wins[model] = wins.get(model, 0) + 1
    return wins


def _summary(
    panel: Panel, runs: list[BacktestResult], cutoffs: list[int], step: int
) -> dict[str, Any]:
    """The last origin's data summary, with every origin's cutoff and the counts summed."""
    first, last = runs[0].summary, runs[-1].summary
    return {
        **last,
        "origins": len(runs),
        "step": step,
        "cutoffs": [period_value(panel, c) for c in cutoffs],
        "first_scored_period": first["first_scored_period"],
        # A row scored at two origins (a step shorter than the horizon) counts twice.
        **{key: sum(run.summary[key] for run in runs) for key in SUMMED_COUNTS},
    }

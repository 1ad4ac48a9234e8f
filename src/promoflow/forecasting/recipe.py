"""A recipe chosen by evidence, per retailer: a small declared search, validated in time.

One fixed recipe cannot suit every file: the ratio-to-level target and the
SCAN*PRO prior that fit our generated retailer (whose demand has that very
form) lost to a plain LightGBM on a real store x brand panel (issue 14). So
training searches a small, declared set of recipes (`candidates`) and keeps the
one that forecasts best on the history's own last weeks:

- stage 1, the target form and objective: demand over its expected level with
  Tweedie or Poisson, log(1 + that ratio) with L2, raw units with Tweedie or
  Poisson; the SCAN*PRO prior and the season on;
- stage 2, the best form without the prior, and without the season where the
  data can have one (a category and dated periods);
- for each, the number of trees: one fit of MAX_TREES trees per fold, scored
  at every count of TREE_COUNTS (the booster forecasts with its first n trees),
  which is early stopping on the forecast that matters (recursive, several
  weeks ahead) rather than on one-step errors.

Validation is rolling-origin inside the history given (`fold_cutoffs`): fit up
to a cutoff, forecast the next `horizon` periods, score the recorded,
uncensored ones; FOLDS cutoffs, `horizon` apart, ending at the history's end.
A backtest gives the search only its training window, so the weeks it scores
are never seen while choosing (nested validation). The score is the mean over
folds of (WAPE + promotion-week WAPE) / 2: planners size stock on both.

The chosen recipe's fold forecasts are out-of-sample errors at every step
ahead, on promoted and other weeks: they calibrate its intervals
(intervals.py), so no extra refit is needed.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field, replace
from typing import Any, Self

import polars as pl

from promoflow.forecasting.features import DS, ID
from promoflow.forecasting.metrics import wape
from promoflow.forecasting.model import (
    MODEL_FAMILY,
    MODEL_REVISION,
    GlobalDemandModel,
    ModelConfig,
)
from promoflow.forecasting.panel import Panel
from promoflow.kit.errors import InvalidInput

# (target, objective): every target form with the objectives that suit it.
FORMS: tuple[tuple[str, str], ...] = (
    ("ratio", "tweedie"),
    ("ratio", "poisson"),
    ("log", "l2"),
    ("raw", "tweedie"),
    ("raw", "poisson"),
)
TREE_COUNTS = (10, 25, 50, 100, 150, 200, 300, 400)
MAX_TREES = max(TREE_COUNTS)
FOLDS = 3
# A fold trains on at least this many periods (lags and levels need some past).
MIN_TRAIN_PERIODS = 12
RECIPE_KEYS = ("target", "objective", "lift_prior", "season", "n_estimators")


@dataclass(frozen=True)
class CandidateScore:
    """One recipe's validation: its best tree count and its scores there."""

    recipe: dict[str, Any]
    trees: int
    score: float
    wape: float | None
    wape_promo: float | None
    seconds: float

    def to_json(self) -> dict[str, Any]:
        """The registry's and metrics.json's form."""
        return {
            **self.recipe,
            "n_estimators": self.trees,
            "score": round(self.score, 6),
            "wape": None if self.wape is None else round(self.wape, 6),
            "wape_promo": None if self.wape_promo is None else round(self.wape_promo, 6),
            "seconds": round(self.seconds, 2),
        }


@dataclass
class SearchResult:
    """The chosen recipe, every candidate's validation and the chosen one's fold forecasts."""

    config: ModelConfig
    candidates: list[CandidateScore]
    cutoffs: list[int]
    horizon: int
    seconds: float
    # y, forecast, promoted, step: the chosen recipe's out-of-sample fold forecasts.
    calibration: pl.DataFrame = field(default_factory=pl.DataFrame)

    def to_json(self) -> dict[str, Any]:
        """What the registry stores: the chosen recipe and every candidate's scores."""
        chosen = asdict(self.config)
        return {
            "chosen": {k: chosen[k] for k in RECIPE_KEYS},
            "criterion": "mean over folds of (WAPE + promotion-week WAPE) / 2",
            "fold_cutoffs": self.cutoffs,
            "horizon": self.horizon,
            "candidates": [c.to_json() for c in self.candidates],
            "seconds": round(self.seconds, 1),
        }


def fold_cutoffs(history: Panel, horizon: int, folds: int = FOLDS) -> list[int]:
    """Validation cutoffs inside `history`: the last `folds` that leave enough to train on."""
    end = int(history.frame[DS].max())  # type: ignore[arg-type]
    start = int(history.frame[DS].min())  # type: ignore[arg-type]
    cutoffs = [end - horizon * k for k in range(folds, 0, -1)]
    usable = [c for c in cutoffs if c - start + 1 >= MIN_TRAIN_PERIODS]
    if not usable:
        raise InvalidInput(
            "horizon",
            horizon,
            f"leaves fewer than {MIN_TRAIN_PERIODS} periods to validate a recipe on "
            f"({end - start + 1} periods of history); use a shorter horizon or more history",
        )
    return usable


def candidates(history: Panel, base: ModelConfig) -> tuple[list[ModelConfig], bool]:
    """Stage 1's recipes, and whether a season can be measured (stage 2 toggles it)."""
    seasonal = history.spec.category_col is not None and history.periods_are_dates
    first = [
        replace(base, target=t, objective=o, lift_prior=True, season=seasonal) for t, o in FORMS
    ]
    return first, seasonal


def search_recipe(
    history: Panel, horizon: int, base: ModelConfig | None = None, folds: int = FOLDS
) -> SearchResult:
    """Score every declared recipe on rolling folds inside `history`; keep the best."""
    started = time.perf_counter()
    base = replace(base or ModelConfig(), n_estimators=MAX_TREES, intervals=False)
    cutoffs = fold_cutoffs(history, horizon, folds)
    validation = [_fold(history, c, horizon) for c in cutoffs]
    first, seasonal = candidates(history, base)
    scores: list[CandidateScore] = []
    # Only the leader's fold forecasts are kept: on a large estate each candidate's
    # (every fold x every tree count) runs to millions of rows.
    leader: tuple[CandidateScore, ModelConfig, pl.DataFrame] | None = None

    def evaluate(configs: list[ModelConfig]) -> None:
        nonlocal leader
        for candidate in configs:
            result = _evaluate(candidate, validation)
            scores.append(result[0])
            if leader is None or result[0].score < leader[0].score:
                leader = result

    evaluate(first)
    assert leader is not None
    form = leader[1]  # the best of stage 1
    second = [replace(form, lift_prior=False)]
    if seasonal:
        second.append(replace(form, season=False))
    evaluate(second)
    winner, config, rows = leader
    chosen = replace(config, n_estimators=winner.trees, intervals=True)
    calibration = rows.filter(pl.col("trees") == winner.trees).select(
        "y", "forecast", "promoted", "step"
    )
    return SearchResult(
        chosen,
        scores,
        cutoffs,
        horizon,
        time.perf_counter() - started,
        calibration,
    )


@dataclass(frozen=True)
class _Fold:
    train: Panel
    future: pl.DataFrame  # unique_id, ds and the known covariates of the scored rows
    actual: pl.DataFrame  # unique_id, ds, y, promoted, step


def _fold(history: Panel, cutoff: int, horizon: int) -> _Fold:
    frame = history.frame
    train = frame.filter(pl.col(DS) <= cutoff)
    usable = train.filter(pl.col("y").is_not_null() & ~pl.col("censored")).select(ID).unique()
    ahead = frame.filter(pl.col(DS).is_between(cutoff + 1, cutoff + horizon)).join(
        usable, on=ID, how="semi"
    )
    scored = ahead.filter(pl.col("y").is_not_null() & ~pl.col("censored"))
    actual = scored.select(
        ID,
        DS,
        "y",
        history.promo_mask(scored).alias("promoted"),
        (pl.col(DS) - cutoff).alias("step"),
    )
    return _Fold(
        replace(history, frame=train),
        ahead.select(ID, DS, *history.spec.known_covariates),
        actual,
    )


def _evaluate(
    config: ModelConfig, folds: list[_Fold]
) -> tuple[CandidateScore, ModelConfig, pl.DataFrame]:
    """Fit once per fold, forecast at every tree count; the best count's mean score."""
    started = time.perf_counter()
    tables = []
    for number, fold in enumerate(folds):
        model = GlobalDemandModel(config).fit(fold.train)
        for trees in TREE_COUNTS:
            model.use_trees(trees)
            predicted = model.predict(fold.future, baseline=False).select(ID, DS, "forecast")
            tables.append(
                fold.actual.join(predicted, on=[ID, DS], how="inner").with_columns(
                    pl.lit(trees).alias("trees"), pl.lit(number).alias("fold")
                )
            )
    rows = pl.concat(tables)
    best: tuple[float, int, float | None, float | None] | None = None
    for trees in TREE_COUNTS:
        at = rows.filter(pl.col("trees") == trees)
        # A fold with nothing to score (every row censored or unrecorded) says nothing.
        per_fold = [
            scores
            for f in range(len(folds))
            if (scores := _scores(at.filter(pl.col("fold") == f))) is not None
        ]
        score = sum(s[0] for s in per_fold) / len(per_fold) if per_fold else float("inf")
        if best is None or score < best[0]:
            overall = _mean([s[1] for s in per_fold])
            promo = _mean([s[2] for s in per_fold])
            best = (score, trees, overall, promo)
    assert best is not None
    recipe = {k: getattr(config, k) for k in RECIPE_KEYS if k != "n_estimators"}
    seconds = time.perf_counter() - started
    return CandidateScore(recipe, best[1], best[0], best[2], best[3], seconds), config, rows


def _scores(rows: pl.DataFrame) -> tuple[float, float | None, float | None] | None:
    """(criterion, WAPE, promotion-week WAPE) of one fold's forecasts; None if nothing sold."""
    frame = rows.select(pl.col("y").alias("actual"), "forecast", "promoted")
    overall = wape(frame)
    promo = wape(frame.filter(pl.col("promoted")))
    if overall is None:
        return None
    return (overall + (promo if promo is not None else overall)) / 2, overall, promo


def _mean(values: list[float | None]) -> float | None:
    known = [v for v in values if v is not None]
    return sum(known) / len(known) if known else None


class SearchedDemandModel:
    """Search the recipe on the history it is given, then fit the chosen one on all of it.

    The backtest's default model: its search never sees the scored weeks.
    """

    def __init__(
        self, horizon: int = 13, base: ModelConfig | None = None, folds: int = FOLDS
    ) -> None:
        self.horizon = horizon
        self.base = base
        self.folds = folds
        self.search: SearchResult | None = None
        self.model: GlobalDemandModel | None = None
        self.model_version = f"{MODEL_FAMILY}-{MODEL_REVISION}"

    def fit(self, history: Panel) -> Self:
        """Search on `history`'s own last periods, then fit the winner on all of it."""
        return self.fit_searched(history, history)

    def fit_searched(self, search_on: Panel, history: Panel) -> Self:
        """Search on `search_on` (`history` or a sample of its series), fit the winner on `history`.

        A history too short to validate on keeps the default recipe (no search).
        """
        try:
            fold_cutoffs(search_on, self.horizon, self.folds)
        except InvalidInput:
            self.search = None
            self.model = GlobalDemandModel(self.base).fit(history)
            return self
        self.search = search_recipe(search_on, self.horizon, self.base, self.folds)
        # No fold forecasts to calibrate on: the model's own calibration refit.
        calibration = self.search.calibration
        self.model = GlobalDemandModel(self.search.config).fit(
            history, calibration=None if calibration.is_empty() else calibration
        )
        return self

    def predict(self, future: pl.DataFrame, history: Panel | None = None) -> pl.DataFrame:
        """The chosen model's forecast, baseline and quantiles (GlobalDemandModel.predict)."""
        if self.model is None:
            raise InvalidInput("model", "unfitted", "call fit() before predict()")
        return self.model.predict(future, history)

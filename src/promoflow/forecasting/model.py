"""The global promotion-aware demand model: LightGBM through Nixtla mlforecast.

One gradient-boosted model learns from every series at once (the M5-winning
family): lags and rolling statistics of demand, calendar, price relative to the
usual price, promotion flags and depth, recent promotion history and whatever
known covariates and store attributes the data carries (features.py).

What the trees learn is demand over an expected level:

    demand / (series scale x category season x prior lift)

- series scale: the series' recent unpromoted level, so lifts pool across slow
  and fast sellers (features.series_scales);
- category season: with a category column and dated periods, the category's
  seasonal index for that week, measured on all its series at once
  (features.season_profile);
- prior lift: on promoted weeks, the lift a SCAN*PRO model fitted on the
  history's promotions expects (lift_prior.py); 1 without a promotion.

So the trees correct a structure that is already close instead of rebuilding a
category's year and a promotion's lift from splits, which left single
promotions 20-40 % off (benchmarks/README.md). The prior's log lift is also a
feature, so they can bend it.

Stockout weeks: an unpromoted one trains on its unconstrained demand (the
expected demand given that it reached at least what sold, censoring.py), not on
the capped sales; so does a promoted one, with the prior's forecast as its
expected demand (`ModelConfig.unconstrain_promotions`): left out, they would
teach lifts that are too low, since promotions sell out where demand ran high.

`predict` answers twice: with the planned promotion (the forecast) and with the
promotion switched off (the baseline: promotion columns 0, prices back to the
usual price), so uplift = forecast - baseline. Quantiles come from grouped split
conformal prediction on a held-back calibration window (intervals.py).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Protocol, Self, cast

import numpy as np
import numpy.typing as npt
import polars as pl
from lightgbm import LGBMRegressor
from mlforecast import MLForecast
from mlforecast.lag_transforms import RollingMean, RollingStd

from promoflow.forecasting import features, horizon
from promoflow.forecasting.features import DS, ID, PROMO_ANY, SEASON, WEIGHT
from promoflow.forecasting.horizon import PreparedHistory
from promoflow.forecasting.intervals import ConformalQuantiles
from promoflow.forecasting.lift_prior import LIFT_PRIOR, LiftPrior
from promoflow.forecasting.panel import Panel, PanelSpec
from promoflow.kit.errors import InvalidInput

SCALE = "series_scale"

MODEL_FAMILY = "promoflow-lgbm"
# 2: unpromoted stockout weeks train on their unconstrained demand (censoring.py),
# and large estates train on a reweighted sample of unpromoted rows.
# 3: demand over scale x category season x SCAN*PRO prior lift; promoted stockout
# weeks unconstrained too.
# 4: the recipe (target form, objective, prior, season, trees) is searched per
# retailer (recipe.py); cross-item features; intervals calibrated on the
# search's folds.
MODEL_REVISION = 4
# Rolling means over these windows, after these lags (lag 1: recent level; lag 52:
# the same weeks last year). Lag 1 also gets a 13-week standard deviation.
ROLLING_WINDOWS: dict[int, tuple[int, ...]] = {1: (4, 13), 52: (4,)}


TARGETS = ("ratio", "log", "raw")
LIGHTGBM_OBJECTIVES = {"tweedie": "tweedie", "poisson": "poisson", "l2": "regression"}


@dataclass(frozen=True)
class ModelConfig:
    """Hyper-parameters; the defaults are what the backtests in benchmarks/ used."""

    lags: tuple[int, ...] = (1, 2, 3, 4, 13, 52)
    n_estimators: int = 200
    learning_rate: float = 0.08
    num_leaves: int = 63
    min_child_samples: int = 50
    max_bin: int = 63
    # What the trees learn (recipe.py searches these per retailer):
    # - "ratio": demand over its expected level (scale x season x prior lift);
    # - "log": log(1 + that ratio), with the L2 objective;
    # - "raw": units as sold (the level's parts are features only).
    target: str = "ratio"
    # "tweedie" suits counts with many zeros and multiplicative promotion
    # effects; "poisson"; "l2" (LightGBM's regression) goes with the log target.
    objective: str = "tweedie"
    # The category's seasonal index in the level (features.season_profile).
    season: bool = True
    calibration_periods: int = 13
    # Conformal quantiles need thousands of scores, not every series: beyond this
    # many series the calibration refit uses a random sample of them.
    calibration_series: int = 20_000
    intervals: bool = True
    # Large estates: above this many training rows a fit keeps every promoted row
    # (up to half the budget) and a random share of the others, weighted by the
    # inverse of that share so the sample stays unbiased. Tree building costs time
    # per row; a global model learns a weekly level and a lift from 2.5M rows as
    # well as from 10M. None: always every row.
    max_training_rows: int | None = 2_500_000
    # LightGBM's OpenMP threads spin while they wait: with more threads than idle
    # cores (a busy API server, a second worker) a fit ran 8x slower here. One
    # thread unless asked; the scale benchmark sets the core count.
    threads: int = 1
    seed: int = 7
    # A SCAN*PRO lift fitted on the history's promotions (lift_prior.py): a feature,
    # and with lift_offset part of the level the trees' target is measured against.
    lift_prior: bool = True
    lift_offset: bool = True
    # Promoted stockout weeks train on E[demand | demand >= sold] around the prior's
    # forecast; False leaves them out (weight 0), as revision 2 did.
    unconstrain_promotions: bool = True

    def lightgbm(self) -> LGBMRegressor:
        """A fresh LightGBM regressor with these settings."""
        return LGBMRegressor(
            objective=LIGHTGBM_OBJECTIVES[self.objective],
            n_estimators=self.n_estimators,
            learning_rate=self.learning_rate,
            num_leaves=self.num_leaves,
            min_child_samples=self.min_child_samples,
            max_bin=self.max_bin,
            subsample=0.7,
            subsample_freq=1,
            colsample_bytree=0.8,
            n_jobs=self.threads,
            random_state=self.seed,
            verbose=-1,
        )

    def __post_init__(self) -> None:
        if self.target not in TARGETS:
            raise InvalidInput("target", self.target, f"use one of {', '.join(TARGETS)}")
        if self.objective not in LIGHTGBM_OBJECTIVES:
            raise InvalidInput(
                "objective", self.objective, f"use one of {', '.join(LIGHTGBM_OBJECTIVES)}"
            )
        if (self.target == "log") != (self.objective == "l2"):
            raise InvalidInput(
                "objective",
                self.objective,
                f"the {self.target} target does not go with it; "
                "the log target learns with l2, the others with tweedie or poisson",
            )

    def history_needed(self) -> int:
        """Periods of a series the lags and rolling windows reach back to."""
        reach = [lag + max(windows) for lag, windows in ROLLING_WINDOWS.items()]
        return max([*self.lags, *reach]) + 1

    def lag_transforms(self) -> dict[int, list[Any]]:
        """Rolling statistics of recent demand (level and volatility) and last year's level."""
        return {
            lag: [RollingMean(w) for w in windows] + ([RollingStd(13)] if lag == 1 else [])
            for lag, windows in ROLLING_WINDOWS.items()
        }


class Forecaster(Protocol):
    """What a fit leaves to forecast with: mlforecast's MLForecast here, its Dask twin in
    distributed.py (the engine hooks `_fit_forecaster` and `_forecast`)."""

    models_: dict[str, Any]


@dataclass(frozen=True)
class RowSample:
    """The share of promoted and of other training rows a fit keeps (1.0: every row)."""

    promoted: float = 1.0
    other: float = 1.0

    @classmethod
    def within(cls, train: pl.DataFrame, budget: int | None) -> RowSample:
        """Rates that keep about `budget` rows, promoted rows first (up to half of it)."""
        learnt = train.filter(pl.col(WEIGHT) > 0)
        if budget is None or learnt.height <= budget:
            return cls()
        promoted = int((learnt[PROMO_ANY] > 0).sum())
        kept = min(promoted, budget // 2)
        others = learnt.height - promoted
        return cls(
            promoted=kept / promoted if promoted else 1.0,
            other=min(1.0, (budget - kept) / others) if others else 1.0,
        )

    def draw(
        self, rows: pl.DataFrame, target: npt.NDArray[np.float64], seed: int
    ) -> tuple[pl.DataFrame, npt.NDArray[np.float64]]:
        """Rows with weight (weight-0 rows teach nothing and go), each kept one reweighted."""
        weight = self.weights(rows, seed)
        keep = weight > 0
        kept = rows.filter(pl.Series(keep)).with_columns(pl.Series(WEIGHT, weight[keep]))
        return kept, target[keep]

    def weights(self, rows: pl.DataFrame, seed: int) -> npt.NDArray[np.float64]:
        """Each row's weight after the draw: 0 if left out, else divided by its keep rate.

        The Dask engine draws with this on the rows in mlforecast's order (by
        series, then period) before its lags are built, so it keeps the same rows.
        """
        weight = rows[WEIGHT].to_numpy()
        rate = np.where(rows[PROMO_ANY].to_numpy() > 0, self.promoted, self.other)
        keep = (weight > 0) & (np.random.default_rng(seed).random(len(weight)) < rate)
        return np.where(keep, weight / rate, 0.0)


class GlobalDemandModel:
    """Fit on a panel's history; forecast, baseline and quantiles for future rows."""

    def __init__(self, config: ModelConfig | None = None) -> None:
        self.config = config or ModelConfig()
        self.model_version = f"{MODEL_FAMILY}-{MODEL_REVISION}"
        self.feature_names: list[str] = []
        self.promo_ratio = features.DEFAULT_PROMO_RATIO
        self.season_profile: pl.DataFrame | None = None
        self.lift_prior: LiftPrior | None = None
        self.spec: PanelSpec | None = None
        self._fitted: PreparedHistory | None = None
        self._static_codes: dict[str, dict[str, int]] = {}
        self._forecaster: Forecaster | None = None
        self._quantiles: ConformalQuantiles | None = None
        self.row_sample = RowSample()

    def __setstate__(self, state: dict[str, Any]) -> None:
        """A model stored by an earlier revision forecasts the way it was trained."""
        state.setdefault("lift_prior", None)
        state.setdefault("season_profile", None)
        self.__dict__.update(state)

    # -- fitting -------------------------------------------------------------------

    def fit(self, history: Panel, calibration: pl.DataFrame | None = None) -> Self:
        """Learn from every observed, uncensored period of every series.

        `calibration` (y, forecast, promoted, step: out-of-sample forecasts of this
        recipe, recipe.py's validation folds) calibrates the intervals; without
        it the model is refitted once without its last weeks to score them.
        """
        if history.frame.is_empty():
            raise InvalidInput("history", "empty", "there is nothing to learn from")
        self.spec = history.spec
        self._static_codes = horizon.static_codes(history.frame, history.spec)
        fitted, train = self._training_rows(history)
        self.row_sample = RowSample.within(train, self.config.max_training_rows)
        actuals = _actuals(fitted) if calibration is None and self.config.intervals else None
        # Forecasting from the fitted history needs only the recent weeks (promotion
        # history features look back PROMO_MEMORY weeks; mlforecast keeps its own lags),
        # which keeps the stored artefact small; the rest goes before the boosters are
        # fitted, so a large estate's history is not held beside their feature matrix.
        recent = pl.col(DS) > fitted.cutoff - features.PROMO_MEMORY - 1
        self._fitted = replace(fitted, frame=fitted.frame.filter(recent))
        cutoff = fitted.cutoff
        del fitted
        self._forecaster = self._fit_forecaster(train)
        if calibration is not None:
            self._quantiles = ConformalQuantiles.calibrate(calibration)
        elif actuals is not None:
            self._quantiles = self._calibrate(train, cutoff, actuals)
        return self

    def _training_rows(self, history: Panel) -> tuple[PreparedHistory, pl.DataFrame]:
        """The prepared history and the rows the trees learn from (features, target, weight).

        The engineered frame (every feature of every row) is dropped on return: at
        100k series it is gigabytes the fit itself does not need.
        """
        fitted, self.promo_ratio = horizon.prepare_history(history, season=self.config.season)
        self.season_profile = fitted.season_profile
        engineered = horizon.engineer(fitted.frame, fitted, self._static_codes)
        if self.config.lift_prior:
            self.lift_prior = LiftPrior.fit(engineered, history.spec, fitted.dispersion)
        engineered = self._with_prior(engineered)
        self.feature_names = horizon.feature_names(engineered, fitted.spec)
        columns = self._columns(engineered)
        if self.lift_prior is not None and self.config.unconstrain_promotions:
            demand = self.lift_prior.sold_out_demand(engineered, fitted.dispersion)
            columns = columns.update(
                demand.select(ID, DS, pl.col("demand").alias("y"), pl.lit(1.0).alias(WEIGHT)),
                on=[ID, DS],
            )
        return fitted, self._scaled(columns, fitted)

    def _scaled(self, rows: pl.DataFrame, history: PreparedHistory) -> pl.DataFrame:
        """Rows with y as the trees learn it (the recipe's target form)."""
        return rows.join(history.scales, on=ID).with_columns(self._to_target(pl.col("y")))

    def _to_target(self, units: pl.Expr) -> pl.Expr:
        if self.config.target == "raw":
            return units
        ratio = units / self._divisor()
        return ratio.log1p() if self.config.target == "log" else ratio

    def _from_target(self, learnt: pl.Expr) -> pl.Expr:
        """Units from what the trees predict (needs the divisor's columns)."""
        if self.config.target == "raw":
            return learnt.clip(lower_bound=0.0)
        ratio = learnt.exp() - 1.0 if self.config.target == "log" else learnt
        return ratio.clip(lower_bound=0.0) * self._divisor()

    def _fit_forecaster(self, train: pl.DataFrame) -> Forecaster:
        """Engine hook: lags, rolling statistics and the booster, fitted on `train`."""
        forecaster = MLForecast(
            models={"lgbm": self.config.lightgbm()},
            freq=1,
            lags=list(self.config.lags),
            lag_transforms=self.config.lag_transforms(),
            num_threads=self.config.threads,
        )
        prepared = forecaster.preprocess(
            train.drop(SEASON),  # a divisor of the target, not a feature
            id_col=ID,
            time_col=DS,
            target_col="y",
            static_features=self._static_features(),
            dropna=False,
            weight_col=WEIGHT,
            keep_last_n=self.config.history_needed(),
            return_X_y=True,
        )
        rows, target = cast(tuple[pl.DataFrame, npt.NDArray[np.float64]], prepared)
        del prepared  # else every row's features outlive the draw, through the fit
        # The calibration refit draws at the same rates as the main fit, so its
        # errors are those of a model trained the way the served one was.
        rows, target = self.row_sample.draw(rows, target, self.config.seed)
        forecaster.fit_models(rows, target)
        return forecaster

    def _forecast(
        self,
        forecaster: Forecaster,
        steps: int,
        ahead: pl.DataFrame,
        ids: list[str],
        new_df: pl.DataFrame | None = None,
    ) -> pl.DataFrame:
        """Engine hook: the recursive forecast in the trees' target (unique_id, ds, lgbm)."""
        local = cast(MLForecast, forecaster)
        return local.predict(steps, X_df=ahead, ids=ids, new_df=new_df)

    def _calibrate(
        self, train: pl.DataFrame, cutoff: int, actuals: pl.DataFrame
    ) -> ConformalQuantiles:
        """Refit without the last weeks, score them on `actuals`, learn the error quantiles."""
        start = int(train[DS].min())  # type: ignore[arg-type]
        periods = min(self.config.calibration_periods, (cutoff - start) // 3)
        if periods < 1:
            return ConformalQuantiles.calibrate(pl.DataFrame())
        split = cutoff - periods
        series = train.select(ID).unique().sort(ID)
        if series.height > self.config.calibration_series:
            sample = series.sample(n=self.config.calibration_series, seed=self.config.seed)
            train = train.join(sample, on=ID, how="semi")
        early = train.filter(pl.col(DS) <= split)
        late = train.filter(pl.col(DS) > split)
        ids = sorted(set(early[ID].unique()) & set(late[ID].unique()))
        forecaster = self._fit_forecaster(early)
        predicted = self._forecast(forecaster, periods, late.select(self._exogenous()), ids)
        scored = (
            late.join(actuals, on=[ID, DS], how="semi")
            .join(predicted, on=[ID, DS], how="inner")
            .select(
                self._from_target(pl.col("y")).alias("y"),
                self._from_target(pl.col("lgbm")).alias("forecast"),
                (pl.col(PROMO_ANY) > 0).alias("promoted"),
                (pl.col(DS) - split).alias("step"),
            )
        )
        return ConformalQuantiles.calibrate(scored)

    def use_trees(self, trees: int | None) -> None:
        """Forecast with the booster's first `trees` trees (None: all of them).

        Early stopping on the forecast that matters: recipe.py fits once with the
        most trees and scores every smaller count without refitting.
        """
        if self._forecaster is None:
            raise InvalidInput("model", "unfitted", "call fit() before use_trees()")
        fitted = cast(LGBMRegressor, self._forecaster.models_["lgbm"])
        booster = fitted.booster_
        booster.best_iteration = trees or 0  # LightGBM's predict uses it; 0 means all

    # -- forecasting ---------------------------------------------------------------

    def predict(
        self, future: pl.DataFrame, history: Panel | None = None, *, baseline: bool = True
    ) -> pl.DataFrame:
        """Forecast, baseline and p10/p50/p80/p90 for each row of `future`.

        `future` has unique_id, ds and every known covariate, for positions after the
        history's last period. The history is the one the model was fitted on unless
        `history` (same columns, e.g. this week's sales) is given: the trained trees
        then forecast from it, so a model trained last month forecasts from today.
        `baseline=False` skips the counterfactual pass (validation needs only the
        forecast); the baseline column then repeats the forecast.
        """
        if self._forecaster is None or self.spec is None or self._fitted is None:
            raise InvalidInput("model", "unfitted", "call fit() before predict()")
        context = self._fitted
        if history is not None:
            context, _ = horizon.prepare_history(
                history, ratio=self.promo_ratio, profile=self.season_profile
            )
        horizon.check_future(future, context)
        steps = int(future[DS].max()) - context.cutoff  # type: ignore[arg-type]
        ids = sorted(future[ID].unique())
        grid = horizon.horizon_grid(future, ids, context)
        fresh = history is not None
        promoted = self._predict_with(grid, ids, steps, context, fresh=fresh)
        # A series with no promotion ahead has the same counterfactual as its
        # forecast; only the promoted ones need the second pass.
        touched = horizon.promoted_series(grid, context) if baseline else []
        unpromoted = promoted.select(ID, DS, pl.col("lgbm").alias("baseline"))
        if touched:
            counterfactual = horizon.without_promotion(
                grid.filter(pl.col(ID).is_in(touched)), context
            )
            switched_off = self._predict_with(counterfactual, touched, steps, context, fresh=fresh)
            unpromoted = unpromoted.update(switched_off.rename({"lgbm": "baseline"}), on=[ID, DS])
        rows = (
            future.select(ID, DS)
            .join(promoted.rename({"lgbm": "forecast"}), on=[ID, DS], how="left")
            .join(unpromoted, on=[ID, DS], how="left")
            .join(
                grid.select(ID, DS, features.promo_flag(self.spec).alias("promoted")), on=[ID, DS]
            )
            .with_columns(
                pl.col("forecast").clip(lower_bound=0.0),
                pl.col("baseline").clip(lower_bound=0.0),
                (pl.col(DS) - context.cutoff).alias("step"),
            )
        )
        quantiles = self._quantiles or ConformalQuantiles.calibrate(pl.DataFrame())
        return quantiles.apply(rows).select(
            ID, DS, "forecast", "baseline", *[pl.col(q) for q in ("p10", "p50", "p80", "p90")]
        )

    def _predict_with(
        self,
        timeline: pl.DataFrame,
        ids: list[str],
        steps: int,
        context: PreparedHistory,
        *,
        fresh: bool,
    ) -> pl.DataFrame:
        assert self._forecaster is not None
        engineered = self._columns(self._engineer(timeline, context))
        ahead = engineered.filter(pl.col(DS) > context.cutoff).select(self._exogenous())
        new_df = None
        if fresh:
            # The trees stay; lags and rolling statistics come from the fresh history.
            known = context.frame.filter(pl.col(ID).is_in(ids))
            recent = self._columns(self._engineer(known, context))
            new_df = self._scaled(recent, context)
        predicted = self._forecast(
            self._forecaster, steps, ahead, ids, None if new_df is None else new_df.drop(SEASON)
        )
        divisors = [SEASON, *([LIFT_PRIOR] if self.lift_prior is not None else [])]
        predicted = predicted.join(engineered.select(ID, DS, *divisors), on=[ID, DS])
        return predicted.join(context.scales, on=ID).select(
            ID, DS, self._from_target(pl.col("lgbm")).alias("lgbm")
        )

    # -- features ------------------------------------------------------------------

    def _engineer(self, timeline: pl.DataFrame, context: PreparedHistory) -> pl.DataFrame:
        return self._with_prior(horizon.engineer(timeline, context, self._static_codes))

    def _divisor(self) -> pl.Expr:
        """What the trees' target is demand over: the series scale (times the prior's lift)."""
        level = pl.col(SCALE) * pl.col(SEASON)
        if self.lift_prior is None or not self.config.lift_offset:
            return level
        return level * pl.col(LIFT_PRIOR).exp()

    def _with_prior(self, engineered: pl.DataFrame) -> pl.DataFrame:
        if self.lift_prior is None:
            return engineered
        return self.lift_prior.apply(engineered)

    def _columns(self, engineered: pl.DataFrame) -> pl.DataFrame:
        """The columns mlforecast sees, in a fixed order (the model's features)."""
        assert self.spec is not None
        extra = [c for c in ("y", WEIGHT, SEASON) if c in engineered.columns]
        return engineered.select(ID, DS, *self.feature_names, *self.spec.static_cols, *extra)

    def _static_features(self) -> list[str]:
        assert self.spec is not None
        return [*self.spec.static_cols, SCALE]

    def _exogenous(self) -> list[str]:
        return [ID, DS, *self.feature_names]


def _actuals(history: PreparedHistory) -> pl.DataFrame:
    """The periods whose sales are demand (observed, no stockout): what intervals are scored on."""
    return history.frame.filter((pl.col(WEIGHT) > 0) & ~pl.col("censored")).select(ID, DS)

"""The global promotion-aware demand model: LightGBM through Nixtla mlforecast.

One gradient-boosted model learns from every series at once (the M5-winning
family): lags and rolling statistics of demand, calendar, price relative to the
usual price, promotion flags and depth, recent promotion history and whatever
known covariates and store attributes the data carries (features.py). Stockout
weeks teach it nothing (weight 0) but feed later lags with an estimate of the
demand that went unserved.

`predict` answers twice: with the planned promotion (the forecast) and with the
promotion switched off (the baseline: promotion columns 0, prices back to the
usual price), so uplift = forecast - baseline. Quantiles come from grouped split
conformal prediction on a held-back calibration window (intervals.py).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Self

import polars as pl
from lightgbm import LGBMRegressor
from mlforecast import MLForecast
from mlforecast.lag_transforms import RollingMean, RollingStd

from promoflow.forecasting import features
from promoflow.forecasting.features import DS, ID, PROMO_ANY, WEIGHT
from promoflow.forecasting.intervals import ConformalQuantiles
from promoflow.forecasting.panel import Panel, PanelSpec
from promoflow.kit.errors import InvalidInput

SCALE = "series_scale"

MODEL_FAMILY = "promoflow-lgbm"
MODEL_REVISION = 1
# Rolling means over these windows, after these lags (lag 1: recent level; lag 52:
# the same weeks last year). Lag 1 also gets a 13-week standard deviation.
ROLLING_WINDOWS: dict[int, tuple[int, ...]] = {1: (4, 13), 52: (4,)}


@dataclass(frozen=True)
class ModelConfig:
    """Hyper-parameters; the defaults are what the backtests in benchmarks/ used."""

    lags: tuple[int, ...] = (1, 2, 3, 4, 13, 52)
    n_estimators: int = 200
    learning_rate: float = 0.08
    num_leaves: int = 63
    min_child_samples: int = 50
    max_bin: int = 63
    # Tweedie suits counts with many zeros and multiplicative promotion effects.
    objective: str = "tweedie"
    calibration_periods: int = 13
    # Conformal quantiles need thousands of scores, not every series: beyond this
    # many series the calibration refit uses a random sample of them.
    calibration_series: int = 20_000
    intervals: bool = True
    # LightGBM's OpenMP threads spin while they wait: with more threads than idle
    # cores (a busy API server, a second worker) a fit ran 8x slower here. One
    # thread unless asked; the scale benchmark sets the core count.
    threads: int = 1
    seed: int = 7

    def lightgbm(self) -> LGBMRegressor:
        """A fresh LightGBM regressor with these settings."""
        return LGBMRegressor(
            objective=self.objective,
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


@dataclass(frozen=True)
class _History:
    """One history the model forecasts from: imputed rows and what is derived from them."""

    frame: pl.DataFrame
    calendar: pl.DataFrame
    cutoff: int
    scales: pl.DataFrame
    usual: pl.DataFrame


class GlobalDemandModel:
    """Fit on a panel's history; forecast, baseline and quantiles for future rows."""

    def __init__(self, config: ModelConfig | None = None) -> None:
        self.config = config or ModelConfig()
        self.model_version = f"{MODEL_FAMILY}-{MODEL_REVISION}"
        self.feature_names: list[str] = []
        self.promo_ratio = features.DEFAULT_PROMO_RATIO
        self.spec: PanelSpec | None = None
        self._fitted: _History | None = None
        self._static_codes: dict[str, dict[str, int]] = {}
        self._forecaster: MLForecast | None = None
        self._quantiles: ConformalQuantiles | None = None

    # -- fitting -------------------------------------------------------------------

    def fit(self, history: Panel) -> Self:
        """Learn from every observed, uncensored period of every series."""
        if history.frame.is_empty():
            raise InvalidInput("history", "empty", "there is nothing to learn from")
        spec = self.spec = history.spec
        self._static_codes = {
            c: {
                v: i
                for i, v in enumerate(
                    sorted(history.frame[c].drop_nulls().cast(pl.String).unique())
                )
            }
            for c in spec.static_cols
            if history.frame.schema[c] == pl.String()
        }
        fitted = self._prepare(history, learn_ratio=True)
        train = self._scaled(self._features(fitted.frame, fitted), fitted)
        self._forecaster = self._fit_forecaster(train)
        if self.config.intervals:
            self._quantiles = self._calibrate(train, fitted.cutoff)
        # Forecasting from the fitted history needs only the recent weeks (promotion
        # history features look back PROMO_MEMORY weeks; mlforecast keeps its own lags),
        # which keeps the stored artefact small.
        recent = pl.col(DS) > fitted.cutoff - features.PROMO_MEMORY - 1
        self._fitted = replace(fitted, frame=fitted.frame.filter(recent))
        return self

    def _prepare(self, history: Panel, *, learn_ratio: bool = False) -> _History:
        assert self.spec is not None
        cutoff = int(history.frame[DS].max())  # type: ignore[arg-type]
        completed = features.complete_series(history.frame, self.spec, cutoff)
        ratio = None if learn_ratio else self.promo_ratio
        imputed, found = features.impute_censored(completed, self.spec, ratio=ratio)
        if learn_ratio:
            self.promo_ratio = found
        return _History(
            frame=imputed,
            calendar=history.calendar,
            cutoff=cutoff,
            scales=features.series_scales(imputed, self.spec),
            usual=features.usual_prices(imputed.filter(pl.col(WEIGHT) > 0), self.spec),
        )

    @staticmethod
    def _scaled(rows: pl.DataFrame, history: _History) -> pl.DataFrame:
        return rows.join(history.scales, on=ID).with_columns(pl.col("y") / pl.col(SCALE))

    def _fit_forecaster(self, train: pl.DataFrame) -> MLForecast:
        forecaster = MLForecast(
            models={"lgbm": self.config.lightgbm()},
            freq=1,
            lags=list(self.config.lags),
            lag_transforms=self.config.lag_transforms(),
            num_threads=self.config.threads,
        )
        forecaster.fit(
            train,
            id_col=ID,
            time_col=DS,
            target_col="y",
            static_features=self._static_features(),
            dropna=False,
            weight_col=WEIGHT,
            keep_last_n=self.config.history_needed(),
        )
        return forecaster

    def _calibrate(self, train: pl.DataFrame, cutoff: int) -> ConformalQuantiles:
        """Refit without the last weeks, score them, learn the error quantiles."""
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
        predicted = forecaster.predict(periods, X_df=late.select(self._exogenous()), ids=ids)
        scored = (
            late.filter(pl.col(WEIGHT) > 0)
            .join(predicted, on=[ID, DS], how="inner")
            .select(
                pl.col("y") * pl.col(SCALE),
                (pl.col("lgbm").clip(lower_bound=0.0) * pl.col(SCALE)).alias("forecast"),
                (pl.col(PROMO_ANY) > 0).alias("promoted"),
                (pl.col(DS) - split).alias("step"),
            )
        )
        return ConformalQuantiles.calibrate(scored)

    # -- forecasting ---------------------------------------------------------------

    def predict(self, future: pl.DataFrame, history: Panel | None = None) -> pl.DataFrame:
        """Forecast, baseline and p10/p50/p80/p90 for each row of `future`.

        `future` has unique_id, ds and every known covariate, for positions after the
        history's last period. The history is the one the model was fitted on unless
        `history` (same columns, e.g. this week's sales) is given: the trained trees
        then forecast from it, so a model trained last month forecasts from today.
        """
        if self._forecaster is None or self.spec is None or self._fitted is None:
            raise InvalidInput("model", "unfitted", "call fit() before predict()")
        spec = self.spec
        context = self._fitted if history is None else self._prepare(history)
        self._check_future(future, context)
        steps = int(future[DS].max()) - context.cutoff  # type: ignore[arg-type]
        ids = sorted(future[ID].unique())
        horizon = self._horizon_grid(future, ids, context)
        promoted = self._predict_with(horizon, ids, steps, context, fresh=history is not None)
        baseline = self._predict_with(
            self._without_promotion(horizon, context),
            ids,
            steps,
            context,
            fresh=history is not None,
        )
        rows = (
            future.select(ID, DS)
            .join(promoted.rename({"lgbm": "forecast"}), on=[ID, DS], how="left")
            .join(baseline.rename({"lgbm": "baseline"}), on=[ID, DS], how="left")
            .join(horizon.select(ID, DS, features.promo_flag(spec).alias(PROMO_ANY)), on=[ID, DS])
            .with_columns(
                pl.col("forecast").clip(lower_bound=0.0),
                pl.col("baseline").clip(lower_bound=0.0),
                pl.col(PROMO_ANY).alias("promoted"),
                (pl.col(DS) - context.cutoff).alias("step"),
            )
        )
        quantiles = self._quantiles or ConformalQuantiles.calibrate(pl.DataFrame())
        return quantiles.apply(rows).select(
            ID, DS, "forecast", "baseline", *[pl.col(q) for q in ("p10", "p50", "p80", "p90")]
        )

    def _check_future(self, future: pl.DataFrame, context: _History) -> None:
        assert self.spec is not None
        missing = [c for c in (ID, DS, *self.spec.known_covariates) if c not in future.columns]
        if missing:
            raise InvalidInput("future", ", ".join(missing), "columns missing from the future rows")
        if future.filter(pl.col(DS) <= context.cutoff).height:
            raise InvalidInput(
                "future.ds", context.cutoff, "future rows must come after the history"
            )
        unseen = set(future[ID].unique()) - set(context.frame[ID].unique())
        if unseen:
            sample = sorted(unseen)[:3]
            raise InvalidInput("unique_id", sample, "series without history to forecast from")

    def _horizon_grid(
        self, future: pl.DataFrame, ids: list[str], context: _History
    ) -> pl.DataFrame:
        """History + every requested series x step; gaps take no promotion, last covariates."""
        assert self.spec is not None
        spec = self.spec
        steps = int(future[DS].max()) - context.cutoff  # type: ignore[arg-type]
        grid = pl.DataFrame({ID: ids}).join(
            pl.DataFrame({DS: list(range(context.cutoff + 1, context.cutoff + steps + 1))}),
            how="cross",
        )
        given = future.select(ID, DS, *spec.known_covariates)
        tail = context.frame.filter(pl.col(ID).is_in(ids)).select(
            ID, DS, *spec.known_covariates, *spec.static_cols
        )
        rows = pl.concat([tail, grid.join(given, on=[ID, DS], how="left")], how="diagonal")
        carried = [
            c for c in (*spec.known_covariates, *spec.static_cols) if c not in spec.promo_cols
        ]
        return rows.sort(ID, DS).with_columns(
            *[pl.col(c).fill_null(0.0) for c in spec.promo_cols],
            *[pl.col(c).forward_fill().over(ID) for c in carried],
        )

    def _without_promotion(self, timeline: pl.DataFrame, context: _History) -> pl.DataFrame:
        """The counterfactual: future promotion columns 0, promoted prices back to usual."""
        assert self.spec is not None
        spec = self.spec
        ahead = pl.col(DS) > context.cutoff
        promoted = features.promo_flag(spec)
        usual = timeline.join(context.usual, on=ID, how="left")
        return usual.with_columns(
            *[
                pl.when(ahead).then(0.0).otherwise(pl.col(c)).alias(c)
                for c in (*spec.promo_cols, *spec.promo_context_cols)
            ],
            *[
                pl.when(ahead & promoted)
                .then(pl.coalesce(f"_usual_{c}", c))
                .otherwise(pl.col(c))
                .alias(c)
                for c in features.price_columns(spec)
            ],
        ).drop(c for c in usual.columns if c.startswith("_usual_"))

    def _predict_with(
        self, timeline: pl.DataFrame, ids: list[str], steps: int, context: _History, *, fresh: bool
    ) -> pl.DataFrame:
        assert self._forecaster is not None
        engineered = self._features(timeline, context)
        ahead = engineered.filter(pl.col(DS) > context.cutoff).select(self._exogenous())
        new_df = None
        if fresh:
            # The trees stay; lags and rolling statistics come from the fresh history.
            known = context.frame.filter(pl.col(ID).is_in(ids))
            new_df = self._scaled(self._features(known, context), context)
        predicted = self._forecaster.predict(steps, X_df=ahead, ids=ids, new_df=new_df)
        return predicted.join(context.scales, on=ID).select(
            ID, DS, (pl.col("lgbm") * pl.col(SCALE)).alias("lgbm")
        )

    # -- features ------------------------------------------------------------------

    def _features(self, timeline: pl.DataFrame, context: _History) -> pl.DataFrame:
        """Derived features on a history (+ horizon) timeline; see features.py."""
        assert self.spec is not None
        spec = self.spec
        rows = features.promotion_history(timeline, spec)
        rows = features.relative_prices(rows, spec, context.usual)
        ahead = int(rows[DS].max()) - context.cutoff  # type: ignore[arg-type]
        calendar = features.future_calendar(context.calendar, ahead)
        if calendar.schema["period"] in (pl.Date(), pl.Datetime()):
            rows = rows.join(features.calendar_features(calendar), on=DS, how="left")
        for column, codes in self._static_codes.items():
            rows = rows.with_columns(
                pl.col(column).cast(pl.String).replace_strict(codes, default=-1).cast(pl.Int32)
            )
        exogenous = [c for c in rows.columns if c not in (ID, DS, "y", "censored", WEIGHT)]
        self.feature_names = sorted(set(exogenous) - set(spec.static_cols))
        keep = [ID, DS, *self.feature_names, *spec.static_cols]
        extra = [c for c in ("y", WEIGHT) if c in rows.columns]
        return rows.select(*keep, *extra)

    def _static_features(self) -> list[str]:
        assert self.spec is not None
        return [*self.spec.static_cols, SCALE]

    def _exogenous(self) -> list[str]:
        return [ID, DS, *self.feature_names]

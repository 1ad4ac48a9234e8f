"""What a planner or a data scientist already has: the two comparators our model must beat.

The statsforecast baselines (baselines.py) are blind to promotions, so beating
them on promotion weeks proves little. These two are not:

- `HistoryLiftForecaster`: the workflow's own promotion-aware fallback
  (baseline.py, `HistoryBaselineForecaster`) on any panel: each series' recent
  clean level times the lift measured on the history's promoted weeks with the
  same promotion signature (which promotion columns are on, and a depth bucket
  for a numeric one), pooled within the category, then over everything.
- `PlainLightGBM`: the global LightGBM a data scientist builds in an afternoon
  with mlforecast: lags and rolling means of the target, every known covariate
  as it is plus each price over the series' median price, the Tweedie
  objective on raw units. No prior, no season, no censoring, no scaling. Its
  settings are fixed here; the objective is the stronger of LightGBM's default
  L2 and Tweedie on the real panels' development origins (Tweedie, by far), a
  choice that can only make the comparator harder to beat.

Both answer the backtest's `DemandModel` protocol (fit a Panel, predict future
rows with forecast, p10, p90).
"""

from __future__ import annotations

from typing import Any, Self

import numpy as np
import polars as pl

from promoflow.forecasting.baseline import DEPTH_EDGES
from promoflow.forecasting.features import DS, ID, WEIGHT, price_columns, promo_flag
from promoflow.forecasting.lift_prior import series_level
from promoflow.forecasting.panel import Panel, PanelSpec
from promoflow.kit.errors import InvalidInput

HISTORY_LIFT = "history_lift"
PLAIN_LIGHTGBM = "plain_lightgbm"
Z90 = 1.2815515655446004
# A lift needs this many promoted weeks with the same signature, else a coarser pool.
MIN_LIFT_WEEKS = 8
BASELINE_WEEKS = 13


class HistoryLiftForecaster:
    """Recent clean level x lift by promotion signature (see the module docstring)."""

    model_version = "history-lift-1"

    def __init__(self, baseline_weeks: int = BASELINE_WEEKS) -> None:
        self.baseline_weeks = baseline_weeks
        self._levels: pl.DataFrame | None = None
        self._lifts: list[tuple[tuple[str, ...], pl.DataFrame]] = []
        self._spread = 0.0
        self._spec: PanelSpec | None = None
        self._statics: pl.DataFrame | None = None

    def fit(self, history: Panel) -> Self:
        """Levels from each series' last clean weeks; lifts from the promoted weeks."""
        spec = self._spec = history.spec
        self._statics = history.frame.select(ID, *spec.static_cols).unique(ID)
        rows = history.frame.filter(pl.col("y").is_not_null() & ~pl.col("censored"))
        rows = self._signed(rows.with_columns(promo_flag(spec).alias("_promoted")), spec)
        clean = rows.filter(~pl.col("_promoted"))
        newest = pl.col(DS).rank("ordinal", descending=True).over(ID)
        levels = (
            clean.filter(newest <= self.baseline_weeks)
            .group_by(ID)
            .agg(pl.col("y").mean().alias("level"))
        )
        anyrow = rows.group_by(ID).agg(pl.col("y").mean().alias("_any"))
        self._levels = anyrow.join(levels, on=ID, how="left").select(
            ID, pl.coalesce("level", "_any").alias("level")
        )
        # Each promoted week against the series' clean level before it (no look-ahead).
        # Every row here is recorded and uncensored: each counts (weight 1).
        running = (
            series_level(rows.with_columns(pl.lit(1.0).alias(WEIGHT)), spec)
            .filter(pl.col("_promoted") & (pl.col("_level") > 0))
            .with_columns((pl.col("y") / pl.col("_level")).alias("_lift"))
        )
        group = [spec.category_col] if spec.category_col else []
        self._lifts = []
        for keys in ((*group, "_signature"), ("_signature",), ()):
            table = running.group_by(list(keys) or pl.lit(1)).agg(
                pl.col("_lift").median().alias("lift"), pl.len().alias("n")
            )
            if keys:
                table = table.filter(pl.col("n") >= MIN_LIFT_WEEKS).drop("n")
            else:
                table = table.select(pl.col("lift").fill_null(1.0))
            self._lifts.append((keys, table))
        ratio = clean.join(self._levels, on=ID).filter(pl.col("level") > 0)
        logs = np.log(((ratio["y"] + 1.0) / (ratio["level"] + 1.0)).to_numpy())
        self._spread = float(np.std(logs)) if logs.size else 0.0
        return self

    def predict(self, future: pl.DataFrame) -> pl.DataFrame:
        """forecast = level x lift (1 without a promotion); an 80 % log-normal interval."""
        if self._levels is None or self._spec is None or self._statics is None:
            raise InvalidInput("model", "unfitted", "call fit() before predict()")
        spec = self._spec
        given = future.drop([c for c in spec.static_cols if c in future.columns])
        rows = self._signed(
            given.join(self._statics, on=ID, how="left").with_columns(
                promo_flag(spec).alias("_promoted")
            ),
            spec,
        ).with_row_index("_row")
        lift = pl.lit(None, pl.Float64)
        for keys, table in self._lifts:
            if keys:
                matched = rows.join(table, on=list(keys), how="left")["lift"]
            else:
                matched = pl.Series([table["lift"].item()] * rows.height)
            lift = pl.coalesce(lift, pl.lit(matched))
        forecast = (
            rows.join(self._levels, on=ID, how="left")
            .with_columns(
                pl.when(pl.col("_promoted")).then(lift).otherwise(1.0).alias("_lift"),
            )
            .with_columns((pl.col("level").fill_null(0.0) * pl.col("_lift")).alias("forecast"))
        )
        spread = np.exp(Z90 * self._spread)
        return forecast.sort("_row").select(
            ID,
            DS,
            "forecast",
            pl.col("forecast").alias("baseline"),
            (pl.col("forecast") / spread).alias("p10"),
            (pl.col("forecast") * spread).alias("p90"),
        )

    @staticmethod
    def _signed(rows: pl.DataFrame, spec: PanelSpec) -> pl.DataFrame:
        """`_signature`: which promotion columns are on, with a depth bucket for numbers."""
        parts = []
        for column in spec.promo_cols:
            value = pl.col(column).fill_null(0.0)
            bucket = pl.lit(0, pl.Int8)
            for edge in DEPTH_EDGES:
                bucket = bucket + (value >= edge).cast(pl.Int8)
            coded = (
                pl.when(value == 0)
                .then(pl.lit("-"))
                .otherwise(
                    pl.when(value.is_between(0, 1, closed="right"))
                    .then(bucket.cast(pl.String))
                    .otherwise(value.round(0).cast(pl.String))
                )
            )
            parts.append(coded)
        signature = pl.concat_str(parts, separator="/") if parts else pl.lit("")
        return rows.with_columns(signature.alias("_signature"))


class PlainLightGBM:
    """A global LightGBM through mlforecast, as a data scientist would build it first."""

    model_version = "plain-lightgbm-1"
    lags = (1, 2, 3, 4, 8, 13, 52)

    def __init__(self, threads: int = 1, seed: int = 7, objective: str = "tweedie") -> None:
        self.objective = objective
        self.threads = threads
        self.seed = seed
        self._forecaster: Any = None
        self._medians: pl.DataFrame | None = None
        self._spec: PanelSpec | None = None
        self._cutoff = 0

    def fit(self, history: Panel) -> Self:
        """Learn from every recorded period (stockout weeks as they sold)."""
        from lightgbm import LGBMRegressor
        from mlforecast import MLForecast
        from mlforecast.lag_transforms import RollingMean

        spec = self._spec = history.spec
        self._cutoff = int(history.frame[DS].max())  # type: ignore[arg-type]
        rows = _without_holes(history.frame, self._cutoff)
        prices = price_columns(spec)
        self._medians = rows.group_by(ID).agg(pl.col(c).median().alias(f"_m_{c}") for c in prices)
        model = LGBMRegressor(
            objective=self.objective,
            n_estimators=300,
            learning_rate=0.05,
            num_leaves=31,
            min_child_samples=20,
            subsample=0.8,
            subsample_freq=1,
            colsample_bytree=0.8,
            n_jobs=self.threads,
            random_state=self.seed,
            verbose=-1,
        )
        self._forecaster = MLForecast(
            models={"lgbm": model},
            freq=1,
            lags=list(self.lags),
            lag_transforms={1: [RollingMean(4), RollingMean(13)]},
            num_threads=self.threads,
        )
        self._forecaster.fit(
            self._features(rows).select(ID, DS, "y", *self._feature_names()),
            id_col=ID,
            time_col=DS,
            target_col="y",
            static_features=[],
            dropna=False,
        )
        return self

    def predict(self, future: pl.DataFrame) -> pl.DataFrame:
        """Recursive forecasts; no interval (a first model rarely has one)."""
        if self._forecaster is None:
            raise InvalidInput("model", "unfitted", "call fit() before predict()")
        steps = int(future[DS].max()) - self._cutoff  # type: ignore[arg-type]
        ids = sorted(future[ID].unique())
        grid = (
            pl.DataFrame({ID: ids})
            .join(
                pl.DataFrame({DS: list(range(self._cutoff + 1, self._cutoff + steps + 1))}),
                how="cross",
            )
            .join(future, on=[ID, DS], how="left")
            .sort(ID, DS)
            .with_columns(pl.exclude(ID, DS).forward_fill().backward_fill().over(ID))
        )
        exogenous = self._features(grid).select(ID, DS, *self._feature_names())
        predicted = self._forecaster.predict(steps, X_df=exogenous, ids=ids)
        return (
            future.select(ID, DS)
            .join(
                predicted.select(
                    ID,
                    DS,
                    pl.col("lgbm").clip(lower_bound=0.0).alias("forecast"),
                ),
                on=[ID, DS],
                how="left",
            )
            .with_columns(
                pl.col("forecast").alias("baseline"),
                pl.lit(None, pl.Float64).alias("p10"),
                pl.lit(None, pl.Float64).alias("p90"),
            )
        )

    def _feature_names(self) -> list[str]:
        assert self._spec is not None
        prices = price_columns(self._spec)
        return [*self._spec.known_covariates, *[f"{c}_rel" for c in prices]]

    def _features(self, rows: pl.DataFrame) -> pl.DataFrame:
        assert self._spec is not None
        assert self._medians is not None
        prices = price_columns(self._spec)
        return rows.join(self._medians, on=ID, how="left").with_columns(
            (pl.col(c) / pl.col(f"_m_{c}")).fill_nan(1.0).fill_null(1.0).alias(f"{c}_rel")
            for c in prices
        )


def _without_holes(frame: pl.DataFrame, cutoff: int) -> pl.DataFrame:
    """Every series on every period from its first recorded one to the cutoff.

    mlforecast refuses series with a missing period; a data scientist fills
    them forward, target and covariates alike, as the baselines do.
    """
    recorded = frame.filter(pl.col("y").is_not_null())
    spans = recorded.group_by(ID).agg(pl.col(DS).min().alias("_first"))
    grid = (
        spans.with_columns(pl.int_ranges("_first", cutoff + 1).alias(DS))
        .explode(DS)
        .select(ID, pl.col(DS).cast(pl.Int64))
    )
    return (
        grid.join(recorded, on=[ID, DS], how="left")
        .sort(ID, DS)
        .with_columns(pl.exclude(ID, DS).forward_fill().over(ID))
    )

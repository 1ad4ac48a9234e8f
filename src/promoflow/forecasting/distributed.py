"""The demand model on a Dask cluster: the same recipe, another engine.

`DistributedDemandModel` is `GlobalDemandModel` (model.py) with its two engine
hooks replaced, so the recipe cannot drift between one machine and a cluster:
history preparation, the target form and its level (series scale x category
season x SCAN*PRO prior lift), unconstrained stockout weeks, the row budget's
draw, the features, the conformal intervals and the inverse transform are the
local model's own code. Only these run elsewhere:

- `_fit_forecaster`: lags and rolling statistics are built on the workers
  (mlforecast's `DistributedMLForecast`, series partitioned by unique_id) and
  the booster trains data-parallel across them (LightGBM's Dask estimator,
  with as many threads per worker as the worker has: size the cluster to the
  cores);
- `_forecast`: the recursive forecast runs on the workers, each on its series.

Feature preparation (features.py, horizon.py) stays in polars on the driver:
the driver must hold the history to answer `predict` anyway, and one polars
pass takes seconds for 100,000 series.

The row budget's draw (`RowSample`) is taken on the driver, on the rows in the
order the local engine draws them (by series, then period), and travels as the
weight column; rows of weight 0 (left out, unobserved or not drawn) still feed
later lags, and are dropped before training, as the local engine drops them.

Intervals: the conformal quantiles of the local model. Without a calibration
frame, `fit` refits once on the cluster without the last weeks and scores them;
recipe.py's fold forecasts can be passed instead, as for the local model.

Agreement with the local model (tests/forecasting/test_distributed.py): one
worker trains serially on the same rows in the same order, so the booster and
the forecasts match the local fit's; across several workers LightGBM builds
feature bins and bags rows per worker, so the trees differ a little and the
totals agree, not each row.
"""

from __future__ import annotations

import pickle
from typing import Any, cast

import dask.dataframe as dd
import polars as pl
from distributed import Client
from fugue.execution.api import persist
from fugue.workflow.api import transform
from fugue_dask import DaskExecutionEngine  # type: ignore[import-untyped]
from lightgbm.dask import DaskLGBMRegressor
from mlforecast.distributed import DistributedMLForecast

from promoflow.forecasting.features import DS, ID, SEASON, WEIGHT
from promoflow.forecasting.model import Forecaster, GlobalDemandModel, ModelConfig
from promoflow.kit.errors import InvalidInput

# The booster's name in mlforecast's models (GlobalDemandModel reads "lgbm").
BOOSTER = "lgbm"
# Positions travel through the engine as days (see _to_engine_time).
ENGINE_FREQ = "D"


class DistributedDemandModel(GlobalDemandModel):
    """GlobalDemandModel whose lags, training and forecasts run on a Dask cluster."""

    def __init__(
        self,
        client_or_engine: Client | DaskExecutionEngine,
        config: ModelConfig | None = None,
        partitions: int | None = None,
    ) -> None:
        super().__init__(config)
        client = getattr(client_or_engine, "dask_client", client_or_engine)
        if not isinstance(client, Client):
            raise InvalidInput(
                "client_or_engine", type(client).__name__, "give a dask Client or its fugue engine"
            )
        self.client = client
        # One partition per worker unless told: each worker then trains on its share.
        self.partitions = partitions or max(len(client.scheduler_info()["workers"]), 1)

    def _fit_forecaster(self, train: pl.DataFrame) -> Forecaster:
        rows = train.drop(SEASON).sort(ID, DS)  # the season divides the target; not a feature
        rows = rows.with_columns(pl.Series(WEIGHT, self.row_sample.weights(rows, self.config.seed)))
        forecaster = DistributedMLForecast(
            models={BOOSTER: self._booster()},
            freq=ENGINE_FREQ,
            lags=list(self.config.lags),
            lag_transforms=self.config.lag_transforms(),
            engine=self.client,
            num_partitions=self.partitions,
        )
        with self.client.as_current():
            # `fit` would train on weight-0 rows too (they shape LightGBM's bins, bags
            # and minimum leaf counts); its own first step, then the learnt rows only.
            prepared = forecaster._preprocess(
                self._to_dask(rows),
                id_col=ID,
                time_col=DS,
                target_col="y",
                static_features=self._static_features(),
                dropna=False,
                keep_last_n=self.config.history_needed(),
                weight_col=WEIGHT,
            )
            learnt = prepared[prepared[WEIGHT] > 0]
            columns = [c for c in prepared.columns if c not in (ID, DS, "y", WEIGHT)]
            booster = self._booster().fit(
                learnt[columns], learnt["y"], sample_weight=learnt[WEIGHT]
            )
            # mlforecast keeps each partition's training rows, features and all, beside
            # the series state it forecasts from; only the state is needed from here on.
            forecaster._partition_results = persist(  # type: ignore[assignment]
                transform(
                    forecaster._partition_results,
                    _without_training_rows,
                    schema="*",
                    engine=self.client,
                    as_fugue=True,
                ),
                lazy=False,
                engine=self.client,
                as_fugue=True,
            )
        trained = booster.to_local()
        # Forecasts run inside a worker's thread: OpenMP threads as the config says.
        trained.set_params(n_jobs=self.config.threads)
        forecaster.models_ = {BOOSTER: trained}
        return cast(Forecaster, forecaster)

    def _forecast(
        self,
        forecaster: Forecaster,
        steps: int,
        ahead: pl.DataFrame,
        ids: list[str],
        new_df: pl.DataFrame | None = None,
    ) -> pl.DataFrame:
        distributed = cast(DistributedMLForecast, forecaster)
        # Fresh history rebuilds each partition's lags without the fit's weight column
        # (mlforecast 1.1 does not pass it on), so weight would pass for a feature.
        fresh = None if new_df is None else self._to_dask(new_df.drop(WEIGHT, strict=False))
        with self.client.as_current():
            predicted = distributed.predict(steps, X_df=self._to_dask(ahead), ids=ids, new_df=fresh)
            frame = pl.from_pandas(predicted.compute())
        return frame.select(
            pl.col(ID).cast(ahead.schema[ID]),
            _from_engine_time(pl.col(DS)).cast(ahead.schema[DS]),
            pl.col(BOOSTER).cast(pl.Float64),
        )

    def _booster(self) -> DaskLGBMRegressor:
        """LightGBM's Dask estimator with the recipe's settings.

        Threads are each worker's own: LightGBM sets them (and warns that n_jobs is ignored).
        """
        params = self.config.lightgbm().get_params()
        params.pop("n_jobs")
        return DaskLGBMRegressor(**params)

    def _to_dask(self, rows: pl.DataFrame) -> dd.DataFrame:
        frame = rows.sort(ID, DS).with_columns(_to_engine_time(pl.col(DS))).to_pandas()
        return dd.from_pandas(frame, npartitions=self.partitions, sort=False)  # type: ignore[no-untyped-call,no-any-return]


def _without_training_rows(partitions: list[list[Any]]) -> list[list[Any]]:
    """mlforecast's partition rows (ts, train, valid, first_uid, all_uids), train emptied."""
    empty = pickle.dumps(None)
    return [[ts, empty, valid, first, uids] for ts, _, valid, first, uids in partitions]


def _to_engine_time(ds: pl.Expr) -> pl.Expr:
    """Position n as the date 1970-01-01 + n days.

    The engine's predict output types ds as a timestamp: integer positions come
    back as nanoseconds and fail its cast to microseconds.
    """
    return ds.cast(pl.Date).cast(pl.Datetime("us"))


def _from_engine_time(ds: pl.Expr) -> pl.Expr:
    return ds.cast(pl.Date).cast(pl.Int64)

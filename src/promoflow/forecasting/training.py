"""Train the demand model on the estate's sales history, backtest it, register it with its artefact.

The same panel feeds the backtest (last `horizon` weeks held out, against the
comparators and baselines) and the final fit (every week), so the registry's
metrics describe the recipe that produced the stored model. The recipe itself is
searched per retailer (recipe.py) inside the backtest's training window: the
held-out weeks that score the model never choose its recipe, and the final fit
reuses that choice and its fold forecasts (to calibrate the intervals) rather
than searching again on weeks the backtest has scored. The data hash is the
sha256 of the panel.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields
from datetime import date, datetime, timedelta
from typing import Any, Self, cast

import polars as pl
from sqlalchemy.orm import Session

from promoflow.forecasting import registry
from promoflow.forecasting.artifacts import save_artifact
from promoflow.forecasting.backtest import OUR_MODEL, DemandModel, run_backtest
from promoflow.forecasting.model import GlobalDemandModel, ModelConfig
from promoflow.forecasting.models import ModelVersion
from promoflow.forecasting.panel import Panel
from promoflow.forecasting.promotion_model import history_panel
from promoflow.forecasting.recipe import FOLDS, RECIPE_KEYS, SearchedDemandModel
from promoflow.forecasting.service import history_since, newest_sales_week
from promoflow.kit.errors import InvalidInput


@dataclass(frozen=True)
class TrainedModel:
    """A fitted model with the backtest of its recipe and what it learnt from."""

    model: GlobalDemandModel
    backtest: dict[str, Any]
    data_hash: str
    training_start: date
    training_end: date
    series: int
    rows: int
    seconds: float
    # SearchResult.to_json() of the search inside the backtest's training window:
    # the chosen recipe and every candidate's validation scores.
    search: dict[str, Any] = field(default_factory=dict)


def load_estate_history(session: Session, *, weeks: int = 104) -> pl.DataFrame:
    """Every item x location's weekly sales over the last `weeks` weeks, with its category."""
    if weeks < 30:
        raise InvalidInput("weeks", weeks, "train on at least 30 weeks of history")
    newest = newest_sales_week(session)
    if newest is None:
        raise InvalidInput("weekly_sales", "empty", "there is no sales history to train on")
    since = newest - timedelta(weeks=weeks - 1)
    return history_since(session, since)


def sample_series(panel: Panel, max_series: int | None, seed: int = 7) -> Panel:
    """At most `max_series` series, drawn at random (features were built on all of them)."""
    if max_series is None:
        return panel
    if max_series < 10:
        raise InvalidInput("max_series", max_series, "train on at least 10 series")
    ids = panel.frame.select("unique_id").unique().sort("unique_id")
    if ids.height <= max_series:
        return panel
    chosen = ids.sample(n=max_series, seed=seed)
    return Panel(panel.spec, panel.frame.join(chosen, on="unique_id", how="semi"), panel.calendar)


def train_demand_model(
    history: pl.DataFrame,
    *,
    horizon: int = 13,
    config: ModelConfig | None = None,
    max_series: int | None = None,
    champion: tuple[str, ModelConfig] | None = None,
    folds: int = FOLDS,
    search_series: int | None = None,
    reuse: tuple[str, ModelConfig] | None = None,
) -> TrainedModel:
    """Search the recipe and backtest it on the last `horizon` weeks, then fit it on every week.

    The backtest's model searches its recipe (`config` is the search's base:
    learning rate, leaves, lags...) on `folds` rolling folds of the training
    window only; the final model is that recipe fitted on every week, its
    intervals calibrated on the search's out-of-sample fold forecasts. Every
    candidate costs a fit per fold: `search_series` chooses the recipe on a random
    sample of that many series (the models are still fitted on all of them), and
    fewer `folds` make the choice cheaper but noisier (the demo uses both).

    With a `champion` (its version and recipe, see `champion_recipe`), that recipe
    is backtested on the same data and cutoff under the champion's version name, so
    promotion compares like with like.

    With `reuse` (a registered version and its recipe) nothing is searched: that
    recipe is backtested and refitted as it is. A search costs a fit per candidate
    and fold (about 20 fits); a retailer searches when the data changes in kind and
    refits the chosen recipe weekly at the cost of one fit.
    """
    if reuse is not None:
        return _refit_recipe(history, horizon, max_series, reuse)
    started = time.perf_counter()
    panel = sample_series(history_panel(history), max_series)
    rivals = {}
    if champion is not None:
        version, recipe = champion
        rivals[version] = lambda: GlobalDemandModel(recipe)
    searched: list[SearchedDemandModel] = []

    def searching() -> DemandModel:
        searched.append(_SampledSearch(horizon, config, folds, search_series))
        return cast("DemandModel", searched[-1])

    result = run_backtest(panel, horizon, model_factory=searching, rivals=rivals)
    search = searched[-1].search
    if search is None:  # too little history before the backtest's cutoff to search
        model = GlobalDemandModel(config).fit(panel)
    else:
        calibration = None if search.calibration.is_empty() else search.calibration
        model = GlobalDemandModel(search.config).fit(panel, calibration=calibration)
    return _trained(
        model,
        panel,
        {
            **result.to_json(),
            **({"recipe_search": search.to_json()} if search is not None else {}),
        },
        {} if search is None else search.to_json(),
        started,
    )


def _refit_recipe(
    history: pl.DataFrame, horizon: int, max_series: int | None, reuse: tuple[str, ModelConfig]
) -> TrainedModel:
    """Backtest and fit a registered recipe as it is (no search)."""
    started = time.perf_counter()
    version, recipe = reuse
    panel = sample_series(history_panel(history), max_series)
    result = run_backtest(panel, horizon, model_factory=lambda: GlobalDemandModel(recipe))
    model = GlobalDemandModel(recipe).fit(panel)
    chosen = {k: getattr(recipe, k) for k in RECIPE_KEYS}
    return _trained(
        model,
        panel,
        {**result.to_json(), "recipe_reused_from": version},
        {"chosen": chosen, "reused_from": version, "candidates": []},
        started,
    )


def _trained(
    model: GlobalDemandModel,
    panel: Panel,
    backtest: dict[str, Any],
    search: dict[str, Any],
    started: float,
) -> TrainedModel:
    """The fitted model with its backtest, search and what it learnt from (and its hash)."""
    ordered = panel.frame.sort("unique_id", "ds")
    digest = hashlib.sha256(ordered.write_csv().encode()).hexdigest()
    weeks = panel.calendar["period"]
    return TrainedModel(
        model=model,
        backtest=backtest,
        data_hash=digest,
        training_start=weeks.min(),  # type: ignore[arg-type]
        training_end=weeks.max(),  # type: ignore[arg-type]
        series=ordered["unique_id"].n_unique(),
        rows=ordered.height,
        seconds=time.perf_counter() - started,
        search=search,
    )


def _recipe_origin(search: Mapping[str, Any]) -> str:
    reused = search.get("reused_from")
    if reused:
        return f"recipe of {reused}, refitted without a search"
    return "recipe searched on the backtest's training window"


class _SampledSearch(SearchedDemandModel):
    """SearchedDemandModel whose search may see only a sample of the series it is fitted on."""

    def __init__(
        self, horizon: int, base: ModelConfig | None, folds: int, series: int | None
    ) -> None:
        super().__init__(horizon, base, folds)
        self.series = series

    def fit(self, history: Panel) -> Self:
        """Search on a sample of `history`'s series, then fit the winner on all of them."""
        return self.fit_searched(sample_series(history, self.series), history)


def champion_recipe(session: Session, kind: str = "demand") -> tuple[str, ModelConfig] | None:
    """The champion's version and the configuration it was trained with, if there is one.

    Versions registered before the recipe was searched lack its fields (target,
    objective, season...): the defaults are the recipe they were trained with.
    """
    current = registry.champion(session, kind)
    if current is None:
        return None
    return current.version, recipe_config(current.parameters)


def recipe_config(parameters: Mapping[str, Any]) -> ModelConfig:
    """A ModelConfig from a registry row's parameters; unknown keys ignored, missing default."""
    known = {f.name for f in fields(ModelConfig)}
    given = {k: v for k, v in parameters.items() if k in known}
    if "lags" in given:
        given["lags"] = tuple(given["lags"])
    return ModelConfig(**given)


def register_trained(
    session: Session,
    trained: TrainedModel,
    *,
    version: str,
    registered_by: str,
    now: datetime,
) -> ModelVersion:
    """Register the model as a candidate with its backtest and store its artefact."""
    model = trained.model
    assert model.spec is not None
    entry = registry.register_candidate(
        session,
        version=version,
        backtest=trained.backtest,
        data_hash=trained.data_hash,
        training_start=trained.training_start,
        training_end=trained.training_end,
        features=[*model.feature_names, *model.spec.static_cols, "series_scale"],
        backtest_model=OUR_MODEL,
        parameters={**asdict(model.config), "family": model.model_version},
        notes=(
            f"{trained.series} series, {trained.rows} rows, {trained.seconds:.0f} s to train; "
            f"{_recipe_origin(trained.search)}: "
            f"{registry.describe_recipe(trained.search.get('chosen', {}))}"
        ),
        registered_by=registered_by,
        now=now,
    )
    save_artifact(session, version, model, now)
    return entry

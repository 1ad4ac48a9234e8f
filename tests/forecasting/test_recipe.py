"""The recipe search: declared candidates, scored on folds inside the history it is given."""

from __future__ import annotations

from dataclasses import replace

import polars as pl
import pytest

from forecasting.test_model import FAST, HOLDOUT, TRUE_LIFT, WEEKS, retailer, split
from promoflow.forecasting.model import GlobalDemandModel, ModelConfig
from promoflow.forecasting.recipe import (
    FOLDS,
    FORMS,
    TREE_COUNTS,
    SearchedDemandModel,
    fold_cutoffs,
    search_recipe,
)
from promoflow.kit.errors import InvalidInput

CUTOFF = WEEKS - HOLDOUT - 1


@pytest.fixture(scope="module")
def searched() -> SearchedDemandModel:
    history, _ = split(retailer(series=60), CUTOFF)
    return SearchedDemandModel(horizon=HOLDOUT, base=FAST).fit(history)


def test_every_declared_form_is_scored_then_the_winner_without_its_prior(
    searched: SearchedDemandModel,
) -> None:
    search = searched.search
    assert search is not None
    tried = [
        (c.recipe["target"], c.recipe["objective"], c.recipe["lift_prior"])
        for c in search.candidates
    ]
    assert tried[: len(FORMS)] == [(t, o, True) for t, o in FORMS]
    best_form = min(search.candidates[: len(FORMS)], key=lambda c: c.score)
    assert tried[len(FORMS)] == (best_form.recipe["target"], best_form.recipe["objective"], False)
    winner = min(search.candidates, key=lambda c: c.score)
    chosen = search.to_json()["chosen"]
    assert chosen["target"] == winner.recipe["target"]
    assert chosen["objective"] == winner.recipe["objective"]
    assert chosen["lift_prior"] == winner.recipe["lift_prior"]
    assert chosen["n_estimators"] == winner.trees
    assert all(c.trees in TREE_COUNTS for c in search.candidates)


def test_folds_end_at_the_history_it_is_given(searched: SearchedDemandModel) -> None:
    search = searched.search
    assert search is not None
    assert search.cutoffs == [CUTOFF - k * HOLDOUT for k in range(FOLDS, 0, -1)]
    # The chosen recipe's fold forecasts calibrate its intervals: every step ahead,
    # promoted and other weeks.
    steps = set(search.calibration["step"].to_list())
    assert steps == set(range(1, HOLDOUT + 1))
    assert set(search.calibration["promoted"].to_list()) == {True, False}


def test_the_chosen_recipe_forecasts_the_lift(searched: SearchedDemandModel) -> None:
    _, holdout = split(retailer(series=60), CUTOFF)
    predicted = searched.predict(holdout.drop("y", "censored"))
    promoted = holdout.join(predicted, on=["unique_id", "ds"]).filter(pl.col("on_promo") == 1)
    lift = float((promoted["forecast"] / promoted["baseline"]).median())
    assert lift == pytest.approx(TRUE_LIFT, rel=0.25)
    inside = (promoted["y"] >= promoted["p10"]) & (promoted["y"] <= promoted["p90"])
    assert 0.6 <= float(inside.mean()) <= 0.95


@pytest.mark.parametrize(("target", "objective"), FORMS)
def test_every_target_form_learns_the_lift(target: str, objective: str) -> None:
    history, holdout = split(retailer(series=60), CUTOFF)
    config = replace(FAST, target=target, objective=objective, intervals=False)
    predicted = GlobalDemandModel(config).fit(history).predict(holdout.drop("y", "censored"))
    promoted = holdout.join(predicted, on=["unique_id", "ds"]).filter(pl.col("on_promo") == 1)
    lift = float((promoted["forecast"] / promoted["baseline"]).median())
    assert lift == pytest.approx(TRUE_LIFT, rel=0.3)
    # Forecasts are in units, whatever the trees learnt.
    assert float(promoted["forecast"].sum()) == pytest.approx(float(promoted["y"].sum()), rel=0.25)


def test_fewer_trees_forecast_differently_and_none_restores_all() -> None:
    history, holdout = split(retailer(series=40), CUTOFF)
    model = GlobalDemandModel(replace(FAST, intervals=False)).fit(history)
    future = holdout.drop("y", "censored")
    every = model.predict(future)["forecast"]
    model.use_trees(5)
    few = model.predict(future)["forecast"]
    model.use_trees(None)
    again = model.predict(future)["forecast"]
    assert not few.equals(every)
    assert again.equals(every)


def test_a_recipe_that_does_not_fit_together_is_refused() -> None:
    with pytest.raises(InvalidInput) as refused:
        ModelConfig(target="log", objective="tweedie")
    assert refused.value.field == "objective"
    assert "log" in str(refused.value)
    with pytest.raises(InvalidInput) as unknown:
        ModelConfig(target="sqrt")
    assert unknown.value.field == "target"


def test_too_short_a_history_to_validate_on_is_refused() -> None:
    history, _ = split(retailer(series=10), 15)
    with pytest.raises(InvalidInput) as refused:
        fold_cutoffs(history, horizon=13)
    assert refused.value.field == "horizon"
    with pytest.raises(InvalidInput):
        search_recipe(history, 13, FAST)


def test_a_history_too_short_to_search_keeps_the_default_recipe() -> None:
    history, holdout = split(retailer(series=30), 15)
    model = SearchedDemandModel(horizon=13, base=FAST).fit(history)
    assert model.search is None
    future = holdout.filter(pl.col("ds") <= 20).drop("y", "censored")
    predicted = model.predict(future)
    assert predicted.height == future.height
    assert (predicted["p90"] >= predicted["p10"]).all()
    assert (predicted["p90"] > predicted["p10"]).any()  # calibrated by its own refit

"""Train on a seeded retailer, register, approve: the workflow then forecasts with the champion.

Training searches the recipe inside the backtest's training window (two folds
here, to keep the test quick) and registers the chosen one with every
candidate's validation scores.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta

import polars as pl
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from promoflow.forecasting import registry
from promoflow.forecasting.artifacts import load_artifact
from promoflow.forecasting.base import PromotionScenario
from promoflow.forecasting.baseline import HistoryBaselineForecaster
from promoflow.forecasting.champion import champion_forecaster
from promoflow.forecasting.model import ModelConfig
from promoflow.forecasting.models import ModelArtifact
from promoflow.forecasting.promotion_model import GlobalPromotionForecaster
from promoflow.forecasting.recipe import RECIPE_KEYS
from promoflow.forecasting.registry_policy import against_baselines, load_model_policy
from promoflow.forecasting.training import (
    champion_recipe,
    load_estate_history,
    register_trained,
    train_demand_model,
)
from promoflow.kit.clock import utcnow
from promoflow.kit.db import transaction
from promoflow.kit.errors import Conflict
from promoflow.scenario.generator import ScenarioSize, generate

# Training searches recipes (and the backtest runs every model): slower than the
# suite's 180 s default on a loaded 2-core CI machine.
pytestmark = pytest.mark.timeout(420)

SEEDED_ON = date(2026, 12, 6)
FAST = ModelConfig(n_estimators=60, learning_rate=0.12, num_leaves=15)


@pytest.fixture(scope="module")
def retailer(private_engine: Callable[[str], Engine]) -> sessionmaker[Session]:
    """A small seeded retailer of its own (a champion here must not reach other tests)."""
    sessions = sessionmaker(private_engine("champion"), expire_on_commit=False)
    # A fixed day: the seeded history ends the week before `today`, and the weak
    # challenger below must be weak on one known history, not on whichever week
    # the suite happens to run in (on 2026-12-07 it was not).
    generate(sessions, ScenarioSize.small(), seed=11, today=SEEDED_ON)
    return sessions


@pytest.fixture(scope="module")
def trained_version(retailer: sessionmaker[Session]) -> str:
    with transaction(retailer) as session:
        history = load_estate_history(session)
    trained = train_demand_model(history, config=FAST, max_series=200, folds=2)
    with transaction(retailer) as session:
        register_trained(session, trained, version="demand-test-1", registered_by="t", now=utcnow())
    return "demand-test-1"


def champion_in_place(session: Session, trained_version: str) -> None:
    """The trained version is the champion (whichever test runs first promotes it)."""
    if registry.champion(session) is None:
        registry.promote(
            session,
            trained_version,
            approved_by="ada.admin",
            role="operations_admin",
            reason="t",
        )


def test_a_candidate_is_not_used_until_a_planner_approves_it(
    retailer: sessionmaker[Session], trained_version: str
) -> None:
    with transaction(retailer) as session:
        assert isinstance(champion_forecaster(session), HistoryBaselineForecaster)
        entry = registry.get_version(session, trained_version)
        assert entry.status == "candidate"
        ours = next(m for m in entry.backtest_metrics["models"] if m["model"] == "promoflow")
        assert ours["wape_promo"] is not None
        # The recipe the search chose is the one registered (and the stored model's).
        search = entry.backtest_metrics["recipe_search"]
        assert len(search["candidates"]) >= 6
        assert {k: entry.parameters[k] for k in RECIPE_KEYS} == search["chosen"]
        assert len(search["fold_cutoffs"]) == 2
        # Nested: the last fold's scored weeks end at the backtest's cutoff (ds counts
        # periods from 0), so the held-out weeks never chose the recipe.
        periods = entry.backtest_metrics["data"]["periods"]
        assert max(search["fold_cutoffs"]) + 13 == periods - 1 - 13
        beaten = against_baselines(entry.backtest_metrics, "promoflow", load_model_policy())
        registry.promote(
            session,
            trained_version,
            approved_by="sasha.supply",
            role="supply_chain_planner",
            reason=beaten.reason(),
        )
    with transaction(retailer) as session:
        forecaster = champion_forecaster(session)
        assert isinstance(forecaster, GlobalPromotionForecaster)
        assert forecaster.model_version == trained_version


def test_the_champion_forecasts_a_promotion_from_fresh_history(
    retailer: sessionmaker[Session], trained_version: str
) -> None:
    with transaction(retailer) as session:
        champion_in_place(session, trained_version)
        forecaster = champion_forecaster(session)
        history = load_estate_history(session)
    last_week = history["week"].max()
    assert last_week is not None
    category = history["category"][0]
    items = history.filter(pl.col("category") == category)["item_id"].unique().sort()[:3]
    stores = history["location_id"].unique().sort()[:4]
    start = last_week + timedelta(weeks=2)
    scenario = PromotionScenario(
        item_ids=items.to_list(),
        location_ids=stores.to_list(),
        start=start,
        end=start + timedelta(days=13),
        mechanic="percent_off",
        discount_depth=0.3,
        display=True,
        feature=False,
    )
    scope = history.filter(
        pl.col("category") == category, pl.col("location_id").is_in(stores.to_list())
    )
    lines = forecaster.forecast(scope, scenario)
    assert lines.height == len(items) * len(stores)
    # 30 % off with a display sells more than the counterfactual without it.
    assert lines["promoted_units"].sum() > 1.2 * lines["baseline_units"].sum()
    ordered = lines.filter(
        (pl.col("p10") <= pl.col("p50"))
        & (pl.col("p50") <= pl.col("p80"))
        & (pl.col("p80") <= pl.col("p90"))
    )
    assert ordered.height == lines.height


def test_an_altered_artefact_is_refused(
    retailer: sessionmaker[Session], trained_version: str
) -> None:
    with transaction(retailer) as session:
        session.execute(
            sa.update(ModelArtifact)
            .where(ModelArtifact.version == trained_version)
            .values(sha256="0" * 64)
        )
        # A fresh process has no cached copy: drop this one's.
        from promoflow.forecasting import artifacts

        artifacts._cache.clear()
        with pytest.raises(Conflict, match="sha256"):
            load_artifact(session, trained_version)
        session.rollback()


def test_a_challenger_is_judged_against_the_champion_rescored_on_its_data(
    retailer: sessionmaker[Session], trained_version: str
) -> None:
    """A weak challenger is refused with both figures; the champion's recipe ran beside it."""
    with transaction(retailer) as session:
        champion_in_place(session, trained_version)
        history = load_estate_history(session)
        champion = champion_recipe(session)
    assert champion is not None and champion[0] == trained_version
    with transaction(retailer) as session:
        chosen = registry.get_version(session, trained_version).backtest_metrics["recipe_search"]
    # The champion's recipe comes back from the registry as it was searched.
    assert {k: getattr(champion[1], k) for k in RECIPE_KEYS} == chosen["chosen"]
    # Stumps learning at a crawl, and no promotion lift in the level they start from:
    # whatever recipe the search picks, it barely sees a promotion.
    weak = ModelConfig(learning_rate=0.001, num_leaves=2, lift_offset=False)
    trained = train_demand_model(history, config=weak, max_series=200, champion=champion, folds=1)
    rescored = [m["model"] for m in trained.backtest["models"]]
    assert trained_version in rescored
    with transaction(retailer) as session:
        register_trained(session, trained, version="demand-weak", registered_by="t", now=utcnow())
    with (
        transaction(retailer) as session,
        pytest.raises(Conflict, match="does not beat") as refused,
    ):
        registry.promote(
            session,
            "demand-weak",
            approved_by="sasha.supply",
            role="supply_chain_planner",
            reason="t",
        )
    assert trained_version in str(refused.value)
    with transaction(retailer) as session:
        current = registry.champion(session)
        assert current is not None and current.version == trained_version


def test_the_weekly_retrain_refits_the_champions_recipe_without_searching(
    retailer: sessionmaker[Session], trained_version: str
) -> None:
    with transaction(retailer) as session:
        champion_in_place(session, trained_version)
        history = load_estate_history(session)
        champion = champion_recipe(session)
    assert champion is not None
    trained = train_demand_model(history, max_series=200, reuse=champion)
    # Nothing searched: the champion's recipe, as registered, is what was backtested and fitted.
    assert "recipe_search" not in trained.backtest
    assert trained.backtest["recipe_reused_from"] == champion[0]
    assert {k: getattr(trained.model.config, k) for k in RECIPE_KEYS} == {
        k: getattr(champion[1], k) for k in RECIPE_KEYS
    }
    ours = next(m for m in trained.backtest["models"] if m["model"] == "promoflow")
    assert ours["wape"] is not None
    with transaction(retailer) as session:
        entry = register_trained(
            session, trained, version="demand-refit", registered_by="t", now=utcnow()
        )
        assert f"recipe of {champion[0]}, refitted without a search" in entry.notes

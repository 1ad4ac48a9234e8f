"""A first champion must beat the best comparator or baseline; the demo promotes only a winner.

Hand-made backtest documents, no fitting: what is judged here is the bar and the
words of the decision, not the model (test_champion.py trains one).
"""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from promoflow.cli import demo
from promoflow.events.models import Event
from promoflow.forecasting import registry, training
from promoflow.forecasting.model import ModelConfig
from promoflow.forecasting.registry_policy import (
    BUNDLED_POLICY,
    against_baselines,
    load_model_policy,
)
from promoflow.kit.db import transaction
from promoflow.kit.errors import Conflict

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
POLICY = load_model_policy(BUNDLED_POLICY)
DATA_HASH = "a" * 64


def backtest(
    ours: float | None, *, wape: float = 0.281, lightgbm: float | None = 0.358
) -> dict[str, Any]:
    """A training backtest: our model, a rescored champion, two comparators, one baseline."""
    models: list[dict[str, Any]] = [
        {"model": "promoflow", "kind": "model", "wape": wape, "wape_promo": ours},
        # A rival (the champion's recipe rescored) is not a yardstick, however good.
        {"model": "demand-old", "kind": "model", "wape": 0.10, "wape_promo": 0.10},
        {"model": "history_lift", "kind": "comparator", "wape": 0.35, "wape_promo": 0.41},
        {"model": "plain_lightgbm", "kind": "comparator", "wape": 0.301, "wape_promo": lightgbm},
        {"model": "auto_ets", "kind": "baseline", "wape": 0.33, "wape_promo": 0.52},
    ]
    return {
        "data": {"cutoff": "2026-08-30", "horizon": 13, "first_period": "2024-12-08"},
        "models": models,
        "best_baseline": "plain_lightgbm",
        "recipe_search": {
            "chosen": {
                "target": "raw",
                "objective": "poisson",
                "lift_prior": False,
                "season": True,
                "n_estimators": 150,
            },
            "criterion": "mean over folds of (WAPE + promotion-week WAPE) / 2",
            "fold_cutoffs": [60, 73, 86],
            "horizon": 13,
            "candidates": [
                {
                    "target": "ratio",
                    "objective": "tweedie",
                    "lift_prior": True,
                    "season": True,
                    "n_estimators": 200,
                    "score": 0.33,
                    "wape": 0.3,
                    "wape_promo": 0.36,
                    "seconds": 4.2,
                },
                {
                    "target": "raw",
                    "objective": "poisson",
                    "lift_prior": False,
                    "season": True,
                    "n_estimators": 150,
                    "score": 0.31,
                    "wape": 0.29,
                    "wape_promo": 0.33,
                    "seconds": 3.9,
                },
            ],
            "seconds": 30.0,
        },
    }


def register(session: Session, version: str, document: dict[str, Any]) -> Any:
    return registry.register_candidate(
        session,
        version=version,
        backtest=document,
        data_hash=DATA_HASH,
        training_start="2024-12-08",
        training_end="2026-11-29",
        features=["lag_1"],
        parameters={"target": "raw", "objective": "poisson", "family": "promoflow-lgbm"},
        registered_by="t",
        now=NOW,
    )


def promote(session: Session, version: str) -> Any:
    return registry.promote(
        session,
        version,
        approved_by="pat",
        role="supply_chain_planner",
        reason="wins",
        policy=POLICY,
        now=NOW,
    )


def test_the_judgement_names_the_best_yardstick_and_both_figures() -> None:
    judged = against_baselines(backtest(0.312), "promoflow", POLICY)
    assert (judged.best, judged.best_kind, judged.best_figure) == (
        "plain_lightgbm",
        "comparator",
        0.358,
    )
    assert judged.reason() == (
        "backtest, 13 held-out weeks: promotion-week WAPE 0.312 against 0.358 for "
        "plain_lightgbm, the best comparator (12.8 % better); WAPE 0.281 against 0.301"
    )


def test_a_model_that_does_not_beat_the_best_comparator_is_refused_with_the_figures() -> None:
    with pytest.raises(Conflict) as refused:
        against_baselines(backtest(0.358), "promoflow", POLICY, version="demand-tie")
    message = str(refused.value)
    assert "demand-tie does not beat the best comparator or baseline" in message
    assert "promotion-week WAPE 0.358 against 0.358 for plain_lightgbm" in message
    assert "history-baseline forecaster" in message


def test_without_a_yardstick_or_the_metric_nothing_can_be_judged() -> None:
    alone = backtest(0.30)
    alone["models"] = alone["models"][:2]
    with pytest.raises(Conflict, match="scored no comparator or baseline on wape_promo"):
        against_baselines(alone, "promoflow", POLICY)
    with pytest.raises(Conflict, match="has no wape_promo"):
        against_baselines(backtest(None), "promoflow", POLICY)
    # A comparator without the figure is passed over, not taken as 0.
    partial = backtest(0.40, lightgbm=None)
    assert against_baselines(partial, "promoflow", POLICY).best == "history_lift"


def test_a_first_champion_that_loses_to_a_baseline_is_refused(session: Session) -> None:
    """`models promote` goes through registry.promote: the bar holds there, not only in the demo."""
    register(session, "demand-loser", backtest(0.40))
    with pytest.raises(Conflict, match=r"0\.400 against 0\.358 for plain_lightgbm"):
        promote(session, "demand-loser")
    assert registry.get_version(session, "demand-loser").status == "candidate"
    assert registry.champion(session) is None


def test_a_first_champion_that_wins_records_the_figures_in_its_event(session: Session) -> None:
    register(session, "demand-winner", backtest(0.312))
    assert promote(session, "demand-winner").status == "champion"
    event = session.scalars(
        sa.select(Event)
        .where(Event.subject == "model/demand-winner")
        .order_by(Event.sequence.desc())
    ).first()
    assert event is not None and event.type.endswith("model.promoted")
    assert event.data["judgement"] is None
    assert event.data["against_baseline"]["best"] == "plain_lightgbm"
    assert event.data["against_baseline"]["improvement_pct"] == pytest.approx(12.849, abs=1e-3)


def test_the_recipe_is_rebuilt_from_new_and_old_registry_rows() -> None:
    searched = training.recipe_config(
        {"target": "log", "objective": "l2", "season": False, "lift_prior": False,
         "n_estimators": 150, "lags": [1, 2], "family": "promoflow-lgbm", "unknown": 1}
    )  # fmt: skip
    assert (searched.target, searched.objective, searched.season, searched.lift_prior) == (
        "log",
        "l2",
        False,
        False,
    )
    assert (searched.n_estimators, searched.lags) == (150, (1, 2))
    # A row registered before the recipe was searched: the defaults it was trained with.
    old = training.recipe_config({"n_estimators": 200, "learning_rate": 0.08})
    assert (old.target, old.objective, old.season, old.lift_prior) == (
        ModelConfig().target,
        ModelConfig().objective,
        True,
        True,
    )
    assert registry.describe_recipe({}) == (
        "ratio target, tweedie objective, SCAN*PRO prior on, season on"
    )


# The demo ------------------------------------------------------------------------


@pytest.fixture
def demo_db(
    private_engine: Any, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest
) -> sessionmaker[Session]:
    """An empty registry of its own, and a demo whose training returns a given backtest."""
    engine: Engine = private_engine(f"demo-{request.node.name[:40]}")
    sessions = sessionmaker(engine, expire_on_commit=False)
    monkeypatch.setattr(training, "load_estate_history", lambda session: None)

    def register_trained(session: Session, trained: Any, **kw: Any) -> Any:
        return registry.register_candidate(
            session,
            version=kw["version"],
            backtest=trained.backtest,
            data_hash=trained.data_hash,
            training_start="2024-12-08",
            training_end="2026-11-29",
            features=["lag_1"],
            registered_by=kw["registered_by"],
            now=kw["now"],
        )

    monkeypatch.setattr(training, "register_trained", register_trained)
    return sessions


def _train_with(monkeypatch: pytest.MonkeyPatch, document: dict[str, Any]) -> list[tuple[int, int]]:
    asked: list[tuple[int, int]] = []

    def train(history: Any, *, max_series: int, folds: int, search_series: int) -> Any:
        asked.append((folds, search_series))
        return SimpleNamespace(
            backtest=document,
            search=document["recipe_search"],
            data_hash=DATA_HASH,
            series=max_series,
            seconds=12.0,
        )

    monkeypatch.setattr(training, "train_demand_model", train)
    return asked


def test_the_demo_promotes_a_winner_with_the_measured_figures(
    demo_db: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    folds = _train_with(monkeypatch, backtest(0.312))
    demo._train_champion(SimpleNamespace(sessions=demo_db), 1500)  # type: ignore[arg-type]
    # The demo's bounded search: one fold, on a sample of the series.
    assert folds == [(demo.DEMO_SEARCH_FOLDS, demo.DEMO_SEARCH_SERIES)]
    with transaction(demo_db) as session:
        current = registry.champion(session)
        assert current is not None and current.version == f"demand-demo-{DATA_HASH[:8]}"
        assert current.status_reason.startswith(
            "backtest, 13 held-out weeks: promotion-week WAPE 0.312 against 0.358 for "
            "plain_lightgbm, the best comparator (12.8 % better)"
        )
    printed = " ".join(capsys.readouterr().out.split())
    assert "raw target, poisson objective, SCAN*PRO prior off, season on, 150 trees" in printed
    assert "is the champion" in printed


def test_the_demo_leaves_a_loser_a_candidate_and_says_why(
    demo_db: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    _train_with(monkeypatch, backtest(0.40))
    demo._train_champion(SimpleNamespace(sessions=demo_db), 1500)  # type: ignore[arg-type]
    with transaction(demo_db) as session:
        assert registry.champion(session) is None
        (only,) = registry.list_versions(session)
        assert only.status == "candidate"
    printed = " ".join(capsys.readouterr().out.split())
    assert "stays a candidate" in printed
    assert "0.400 against 0.358 for plain_lightgbm" in printed
    assert "keeps forecasting with the history-baseline forecaster" in printed


def test_models_show_names_the_recipe_and_every_candidate(session: Session) -> None:
    from rich.console import Console

    from promoflow.cli.models import _panel

    document = {**backtest(0.312), "verdict": "promoflow beats plain_lightgbm, the best comparator"}
    shown = Console(record=True, width=200)
    shown.print(_panel(register(session, "demand-shown", document)))
    text = shown.export_text()
    assert "recipe raw target, poisson objective, SCAN*PRO prior off, season on, 150 trees" in text
    assert "the held-out weeks did not choose it" in text
    assert "verdict promoflow beats plain_lightgbm" in text
    # Both candidates, best first, the chosen one ticked.
    rows = [line for line in text.splitlines() if " on      " in line and "recipe" not in line]
    assert len(rows) == 2 and "✓" in rows[0] and "0.3100" in rows[0] and "0.3300" in rows[1]
    assert "plain_lightgbm  comparator" in " ".join(text.split("│"))

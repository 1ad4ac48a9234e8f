"""The model registry: a challenger becomes champion only when it wins and a person approves."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from governance_support import DATA_HASH, OTHER_DATA_HASH, backtest_document
from sqlalchemy.orm import Session

from promoflow.events.models import Event
from promoflow.forecasting import registry
from promoflow.forecasting.models import ModelVersion
from promoflow.forecasting.registry_policy import BUNDLED_POLICY, ModelPolicy, load_model_policy
from promoflow.kit.errors import Conflict, Forbidden, InvalidInput, NotFound, PolicyError

NOW = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
POLICY = load_model_policy(BUNDLED_POLICY)


def register(session: Session, version: str, wape_promo: float | None, **overrides: Any) -> Any:
    backtest = overrides.pop("backtest", None) or backtest_document(
        wape_promo,
        cutoff=overrides.pop("cutoff", "2026-06-28"),
        horizon=overrides.pop("horizon", 8),
    )
    fields: dict[str, Any] = {
        "version": version,
        "backtest": backtest,
        "data_hash": DATA_HASH,
        "training_start": "2024-07-07",
        "training_end": "2026-06-28",
        "features": ["lag_1", "lag_52", "price_ratio", "on_promo"],
        "parameters": {"n_estimators": 200},
        "registered_by": "dana.datasci",
    }
    fields.update(overrides)
    return registry.register_candidate(session, **fields)


def promote(session: Session, version: str, role: str = "supply_chain_planner", **kw: Any) -> Any:
    kw.setdefault("policy", POLICY)
    kw.setdefault("now", NOW)
    return registry.promote(
        session, version, approved_by="pat.planner", role=role, reason="better on promo weeks", **kw
    )


def events(session: Session, version: str) -> list[Event]:
    return list(
        session.scalars(
            sa.select(Event).where(Event.subject == f"model/{version}").order_by(Event.sequence)
        )
    )


def kinds(session: Session, version: str) -> list[str]:
    return [event.type.removeprefix("io.promoflow.") for event in events(session, version)]


def statuses(session: Session) -> dict[str, str]:
    return {m.version: m.status for m in registry.list_versions(session)}


def test_bundled_policy_judges_promo_period_wape_and_names_the_approvers() -> None:
    assert POLICY.promotion.metric == "wape_promo"
    assert POLICY.promotion.min_improvement_pct == 2.0
    assert POLICY.promotion.approver_roles == ["supply_chain_planner", "operations_admin"]


def test_register_keeps_the_backtest_and_logs_the_event(session: Session) -> None:
    model = register(session, "demand-1", 0.40)
    assert (model.status, model.kind, model.backtest_cutoff, model.backtest_horizon) == (
        "candidate",
        "demand",
        "2026-06-28",
        8,
    )
    assert model.metric("wape_promo") == 0.40
    assert model.metric("wape") == 0.30
    assert model.backtest_metrics["best_baseline"] == "seasonal_naive"
    [registered] = events(session, "demand-1")
    assert registered.type == "io.promoflow.model.registered"
    assert registered.actor == "dana.datasci"
    assert registered.data["backtest"]["wape_promo"] == 0.40
    assert registry.get_version(session, "demand-1") is model
    assert registry.champion(session) is None


def test_register_refuses_what_cannot_be_judged_later(session: Session) -> None:
    register(session, "demand-1", 0.40)
    with pytest.raises(Conflict, match="already registered"):
        register(session, "demand-1", 0.30)
    with pytest.raises(InvalidInput, match="sha256"):
        register(session, "demand-2", 0.40, data_hash="not-a-hash")
    with pytest.raises(InvalidInput, match=r"models there: promoflow, seasonal_naive"):
        register(session, "demand-2", 0.40, backtest_model="lightgbm")
    with pytest.raises(InvalidInput, match="version"):
        register(session, "demand/2", 0.40)
    with pytest.raises(InvalidInput, match="lag_1 twice"):
        register(session, "demand-2", 0.40, features=["lag_1", "lag_1"])
    undated = backtest_document(0.40)
    del undated["data"]["cutoff"]
    with pytest.raises(InvalidInput, match="does not say its cutoff"):
        register(session, "demand-2", 0.40, backtest=undated)
    with pytest.raises(InvalidInput, match="its cutoff was 2026-06-28"):
        register(session, "demand-2", 0.40, backtest_cutoff="2026-05-31")
    assert statuses(session) == {"demand-1": "candidate"}


def test_integer_periods_and_missing_figures_are_stored_json_safe(session: Session) -> None:
    model = register(
        session,
        "demand-int",
        float("nan"),
        backtest=backtest_document(float("nan"), cutoff=96),
        training_start=1,
        training_end=96,
    )
    assert (model.training_start, model.training_end, model.backtest_cutoff) == ("1", "96", "96")
    session.expire(model)
    assert model.metric("wape_promo") is None  # NaN became null, which PostgreSQL accepts


def test_a_first_champion_beating_the_baselines_needs_only_the_approval(session: Session) -> None:
    register(session, "demand-1", 0.40)
    model = promote(session, "demand-1")
    assert model.status == "champion"
    assert (model.approved_by, model.approver_role, model.promoted_by) == (
        "pat.planner",
        "supply_chain_planner",
        "pat.planner",
    )
    assert (model.promoted_at, model.policy_version) == (NOW, POLICY.version)
    assert registry.champion(session, "demand") is model
    assert kinds(session, "demand-1") == ["model.registered", "model.promoted"]
    promoted = events(session, "demand-1")[-1]
    assert promoted.data["previous_champion"] is None
    assert promoted.data["judgement"] is None


def test_a_challenger_that_wins_by_the_margin_replaces_the_champion(session: Session) -> None:
    register(session, "demand-1", 0.40)
    promote(session, "demand-1")
    register(session, "demand-2", 0.38)  # 5 % lower; the policy needs 2 %
    challenger = promote(session, "demand-2", role="operations_admin")
    assert statuses(session) == {"demand-1": "retired", "demand-2": "champion"}
    assert registry.champion(session) is challenger
    old = registry.get_version(session, "demand-1")
    assert (old.retired_at, old.retired_by) == (NOW, "pat.planner")
    assert old.status_reason.startswith("replaced by demand-2")
    assert kinds(session, "demand-1") == ["model.registered", "model.promoted", "model.retired"]
    promoted = events(session, "demand-2")[-1]
    assert promoted.type == "io.promoflow.model.promoted"
    assert promoted.data["previous_champion"] == "demand-1"
    judgement = promoted.data["judgement"]
    assert (judgement["metric"], judgement["challenger"], judgement["champion"]) == (
        "wape_promo",
        0.38,
        0.40,
    )
    assert judgement["improvement_pct"] == pytest.approx(5.0)
    assert judgement["cutoff"] == "2026-06-28"


@pytest.mark.parametrize(
    ("figure", "shown"),
    [(0.396, "1.0% lower"), (0.40, "0.0% lower"), (0.45, "12.5% higher")],
)
def test_a_challenger_that_does_not_win_by_the_margin_is_refused(
    session: Session, figure: float, shown: str
) -> None:
    register(session, "demand-1", 0.40)
    promote(session, "demand-1")
    register(session, "demand-2", figure)
    with pytest.raises(Conflict) as refused:
        promote(session, "demand-2")
    message = str(refused.value)
    assert f"{figure:.4f} against 0.4000" in message
    assert shown in message
    assert "demand-1" in message and "demand-2" in message
    assert "at least 2% lower, i.e. wape_promo <= 0.3920" in message
    assert statuses(session) == {"demand-1": "champion", "demand-2": "candidate"}
    assert kinds(session, "demand-2") == ["model.registered"]


def test_the_margin_comes_from_the_policy(session: Session) -> None:
    strict = ModelPolicy.model_validate(
        {
            "version": "test-10pct",
            "promotion": {"min_improvement_pct": 10.0, "approver_roles": ["operations_admin"]},
        }
    )
    register(session, "demand-1", 0.40)
    promote(session, "demand-1", role="operations_admin", policy=strict)
    register(session, "demand-2", 0.37)
    with pytest.raises(Conflict, match="at least 10% lower"):
        promote(session, "demand-2", role="operations_admin", policy=strict)
    register(session, "demand-3", 0.36)  # exactly 10 % lower
    promote(session, "demand-3", role="operations_admin", policy=strict)
    assert registry.champion(session).version == "demand-3"  # type: ignore[union-attr]
    assert registry.get_version(session, "demand-3").policy_version == "test-10pct"


@pytest.mark.parametrize(
    ("overrides", "says"),
    [
        ({"cutoff": "2026-05-31", "training_end": "2026-05-31"}, "cutoff 2026-05-31"),
        ({"horizon": 12}, "over 12 periods"),
        ({"data_hash": OTHER_DATA_HASH}, "same data"),
    ],
)
def test_backtests_on_a_different_window_or_data_are_not_comparable(
    session: Session, overrides: dict[str, Any], says: str
) -> None:
    register(session, "demand-1", 0.40)
    promote(session, "demand-1")
    register(session, "demand-2", 0.20, **overrides)
    with pytest.raises(Conflict, match="not comparable") as refused:
        promote(session, "demand-2")
    assert says in str(refused.value)
    assert statuses(session) == {"demand-1": "champion", "demand-2": "candidate"}


def test_a_backtest_without_the_policy_metric_is_not_comparable(session: Session) -> None:
    register(session, "demand-1", 0.40)
    promote(session, "demand-1")
    register(session, "demand-2", None)
    with pytest.raises(Conflict, match="no wape_promo in the backtest of demand-2"):
        promote(session, "demand-2")


def test_only_the_policy_roles_may_promote_or_retire(session: Session) -> None:
    register(session, "demand-1", 0.40)
    with pytest.raises(Forbidden, match="role merchandiser may not approve model promotions"):
        promote(session, "demand-1", role="merchandiser")
    with pytest.raises(Forbidden, match="supply_chain_planner, operations_admin"):
        registry.retire(
            session, "demand-1", actor="mia", role="merchandiser", reason="old", policy=POLICY
        )
    assert statuses(session) == {"demand-1": "candidate"}
    assert kinds(session, "demand-1") == ["model.registered"]


def test_promotion_needs_a_reason_and_a_known_version(session: Session) -> None:
    register(session, "demand-1", 0.40)
    with pytest.raises(InvalidInput, match="reason"):
        registry.promote(
            session, "demand-1", approved_by="pat", role="operations_admin", reason=" ",
            policy=POLICY,
        )  # fmt: skip
    with pytest.raises(NotFound, match="demand-9 is not registered"):
        promote(session, "demand-9")
    promote(session, "demand-1")
    with pytest.raises(Conflict, match="already the demand champion"):
        promote(session, "demand-1")


def test_retire_a_candidate_and_then_the_champion(session: Session) -> None:
    register(session, "demand-1", 0.40)
    register(session, "demand-2", 0.50)
    promote(session, "demand-1")
    retired = registry.retire(
        session, "demand-2", actor="pat", role="supply_chain_planner", reason="worse", now=NOW,
        policy=POLICY,
    )  # fmt: skip
    assert (retired.status, retired.retired_at, retired.status_reason) == ("retired", NOW, "worse")
    with pytest.raises(Conflict, match="already retired"):
        registry.retire(
            session, "demand-2", actor="pat", role="operations_admin", reason="x", policy=POLICY
        )
    registry.retire(
        session, "demand-1", actor="olga", role="operations_admin", reason="drift", policy=POLICY
    )
    assert registry.champion(session) is None
    assert events(session, "demand-1")[-1].data["was"] == "champion"
    # With no champion left, a retired version may come back on approval alone.
    assert promote(session, "demand-1").status == "champion"


def test_champions_are_per_kind(session: Session) -> None:
    register(session, "demand-1", 0.40)
    register(session, "returns-1", 0.50, kind="returns")
    promote(session, "demand-1")
    promote(session, "returns-1")
    assert registry.champion(session, "demand").version == "demand-1"  # type: ignore[union-attr]
    assert registry.champion(session, "returns").version == "returns-1"  # type: ignore[union-attr]
    assert [m.version for m in registry.list_versions(session, kind="returns")] == ["returns-1"]
    with pytest.raises(InvalidInput, match="status"):
        registry.list_versions(session, status="active")


def test_the_database_holds_one_champion_per_kind(session: Session) -> None:
    register(session, "demand-1", 0.40)
    register(session, "demand-2", 0.30)
    promote(session, "demand-1")
    nested = session.begin_nested()
    with pytest.raises(sa.exc.IntegrityError):
        session.execute(
            sa.update(ModelVersion)
            .where(ModelVersion.version == "demand-2")
            .values(status="champion")
        )
    nested.rollback()


def test_a_policy_file_with_an_unknown_role_names_the_field(tmp_path: Path) -> None:
    path = tmp_path / "models.yaml"
    path.write_text(
        'version: "x"\npromotion:\n  metric: wape_promo\n  approver_roles: [data_wizard]\n'
    )
    with pytest.raises(PolicyError, match=r"promotion\.approver_roles\.0='data_wizard'"):
        load_model_policy(path)
    path.write_text('version: "x"\npromotion:\n  metric: mape\n  approver_roles: [auditor]\n')
    with pytest.raises(PolicyError, match=r"promotion\.metric='mape'"):
        load_model_policy(path)

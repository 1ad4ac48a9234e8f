"""The ROI simulation: paired arms, the levers that separate them, promoflow's own policies."""

from __future__ import annotations

from dataclasses import fields, replace
from functools import reduce
from pathlib import Path

import numpy as np
import pytest

from promoflow.allocation.policy import PlanningPolicy, load_planning_policy
from promoflow.approvals.matrix import load_approval_policy
from promoflow.gates.policy import GatePolicy, load_gate_policy
from promoflow.kit.errors import InvalidInput
from promoflow.simulation.arm import METRICS, Policies, run_arm, run_promotion
from promoflow.simulation.assumptions import (
    ASSUMPTIONS,
    BUSINESS_AS_USUAL,
    PROMOFLOW,
    SimulationSettings,
    with_promoflow_value,
)
from promoflow.simulation.overrides import apply_overrides
from promoflow.simulation.service import paired_interval, simulate_roi
from promoflow.simulation.world import World, build_world

SETTINGS = SimulationSettings()


@pytest.fixture(scope="module")
def policies() -> Policies:
    return Policies(gates=load_gate_policy(), planning=load_planning_policy())


@pytest.fixture(scope="module")
def world() -> World:
    return build_world(3, 4, SETTINGS, load_approval_policy())


def test_both_arms_face_the_same_shoppers(world: World, policies: Policies) -> None:
    bau = run_arm(world, BUSINESS_AS_USUAL, SETTINGS, policies)
    ours = run_arm(world, PROMOFLOW, SETTINGS, policies)
    assert bau["demand_on_promotion_units"] == ours["demand_on_promotion_units"] > 0
    # The same seed draws the same shoppers again, and a longer calendar keeps the first
    # promotions' draws: adding promotions never reshuffles the earlier ones.
    longer = build_world(3, 6, SETTINGS, load_approval_policy())
    for first, again in zip(world.promotions, longer.promotions, strict=False):
        assert np.array_equal(first.demand_on_promotion, again.demand_on_promotion)
        assert np.array_equal(first.demand_regular, again.demand_regular)
        assert np.array_equal(first.price_late_draw, again.price_late_draw)
    # Shoppers want at least as much at the promo price as at the regular price.
    for promotion in world.promotions:
        assert (promotion.demand_on_promotion >= promotion.demand_regular).all()
    other = build_world(4, 4, SETTINGS, load_approval_policy())
    assert not np.array_equal(
        other.promotions[0].demand_on_promotion, world.promotions[0].demand_on_promotion
    )


def test_every_assumption_at_promoflows_value_leaves_no_difference() -> None:
    converted = reduce(with_promoflow_value, (a.name for a in ASSUMPTIONS), BUSINESS_AS_USUAL)
    assert converted == PROMOFLOW
    report = simulate_roi(seeds=2, promotions=3, sensitivity=False, business_as_usual=converted)
    for comparison in report.comparisons:
        assert comparison.business_as_usual == comparison.promoflow
        assert comparison.difference == comparison.ci_low == comparison.ci_high == 0.0


def test_each_assumption_moves_business_as_usual_and_the_report_names_the_drivers() -> None:
    report = simulate_roi(seeds=2, promotions=4)
    by_metric = {c.metric: c for c in report.comparisons}
    assert by_metric["lost_sales"].difference < 0
    assert (
        by_metric["price_error_rate"].promoflow
        == 0.0
        < by_metric["price_error_rate"].business_as_usual
    )
    assert by_metric["cycle_time_days"].difference < 0
    effects = {line.assumption: line.effect for line in report.sensitivity}
    assert set(effects) == {a.name for a in ASSUMPTIONS}
    for name, effect in effects.items():
        assert any(value != 0 for value in effect.values()), f"{name} moves nothing"
    # Approval levers shorten the cycle and touch no shelf figure.
    for name in ("approvals_in_parallel", "approval_escalation_at_sla", "approval_handoff_days"):
        assert effects[name]["cycle_time_days"] < 0
        assert effects[name]["lost_sales"] == effects[name]["price_error_rate"] == 0.0
    drivers = report.drivers()
    assert set(drivers) <= set(METRICS)
    assert drivers["cycle_time_days"] in {
        "approvals_in_parallel",
        "approval_escalation_at_sla",
        "approval_handoff_days",
    }


def test_gates_hold_the_offer_until_its_price_is_at_every_store(
    world: World, policies: Policies
) -> None:
    gated = replace(BUSINESS_AS_USUAL, launch_gates=True)
    late = [
        p
        for p in world.promotions
        if run_promotion(p, BUSINESS_AS_USUAL, SETTINGS, policies).price_error_days > 0
    ]
    assert late, "the seed should have a promotion whose prices arrive late"
    for promotion in late:
        result = run_promotion(promotion, gated, SETTINGS, policies)
        assert result.price_error_days == 0
        assert "price_validity" in result.gates_failed


def test_stock_gates_expedite_what_the_forecast_says_is_short(
    world: World, policies: Policies
) -> None:
    # Prices on time, so only the stock gates can act.
    on_time = replace(BUSINESS_AS_USUAL, late_price_store_share=0.0, partial_publication_share=0.0)
    gated = replace(on_time, launch_gates=True)
    lost_without = [
        run_promotion(p, on_time, SETTINGS, policies).lost_value for p in world.promotions
    ]
    results = [run_promotion(p, gated, SETTINGS, policies) for p in world.promotions]
    assert any("inventory_coverage" in r.gates_failed for r in results)
    assert all(r.lost_value <= lost for r, lost in zip(results, lost_without, strict=True))
    assert sum(r.lost_value for r in results) < sum(lost_without)


def test_a_gate_policy_that_accepts_any_stock_expedites_nothing(
    world: World, policies: Policies
) -> None:
    gates = policies.gates
    lenient = GatePolicy.model_validate(
        {
            **gates.model_dump(),
            "gates": {
                **gates.gates.model_dump(),
                "inventory_coverage": {
                    **gates.gates.inventory_coverage.model_dump(),
                    "min_share_covered": 0.0,
                },
                "stockout_risk": {
                    **gates.gates.stockout_risk.model_dump(),
                    "max_share_of_demand_lost": 1.0,
                },
            },
        },
        strict=False,
    )
    relaxed = Policies(gates=lenient, planning=policies.planning)
    for promotion in world.promotions:
        result = run_promotion(promotion, PROMOFLOW, SETTINGS, relaxed)
        assert not {"inventory_coverage", "stockout_risk"} & set(result.gates_failed)


def test_the_promoflow_arm_orders_the_quantile_planning_yaml_names(
    world: World, policies: Policies
) -> None:
    planning = policies.planning
    median = PlanningPolicy.model_validate(
        {
            **planning.model_dump(),
            "replenishment": {**planning.replenishment.model_dump(), "quantile": "p50"},
        },
        strict=False,
    )
    at_p90 = run_arm(world, PROMOFLOW, SETTINGS, policies)
    at_p50 = run_arm(world, PROMOFLOW, SETTINGS, Policies(policies.gates, median))
    assert at_p50["leftover_units"] < at_p90["leftover_units"]


def test_paired_interval_is_the_t_interval_over_seeds() -> None:
    mean, low, high = paired_interval(np.array([1.0, 2.0, 3.0, 4.0]))
    # sd 1.2910, n 4, t(0.975, 3) = 3.1824 from the table: half-width 2.0543.
    assert mean == 2.5
    assert low == pytest.approx(2.5 - 2.0543, abs=1e-3)
    assert high == pytest.approx(2.5 + 2.0543, abs=1e-3)


@pytest.mark.parametrize(
    ("flags", "named"),
    [
        ({"seeds": 1}, "seeds=1"),
        ({"seeds": -4}, "seeds=-4"),
        ({"promotions": 0}, "promotions=0"),
        ({"seed": -1}, "seed=-1"),
    ],
)
def test_a_run_without_an_interval_is_refused_naming_the_flag(
    flags: dict[str, int], named: str
) -> None:
    with pytest.raises(InvalidInput) as caught:
        simulate_roi(**flags)  # type: ignore[arg-type]
    assert str(caught.value).startswith(named)


def _run_with(pair: str) -> None:
    changed, bau = apply_overrides([pair])
    simulate_roi(seeds=2, promotions=1, sensitivity=False, settings=changed, business_as_usual=bau)


def test_set_changes_a_shared_setting_or_a_bau_lever_and_refuses_unknown_names() -> None:
    settings, bau = apply_overrides(["gate_expedite_share=0", "launch_gates=true", "stores=12"])
    assert settings.gate_expedite_share == 0.0
    assert settings.stores == 12
    assert bau == replace(BUSINESS_AS_USUAL, launch_gates=True)
    # The shared setting reaches the run: no gate rushes stock in from the supplier.
    report = simulate_roi(seeds=2, promotions=2, sensitivity=False, settings=settings)
    assert report.settings.gate_expedite_share == 0.0
    for pair, named in [
        ("nonsense=1", "nonsense='1'"),
        ("gate_expedite_share=1.5", "gate_expedite_share='1.5'"),
        ("stores=0", "stores=0"),
        ("late_price_days=-2", "late_price_days='-2'"),
        ("gate_check_days_before_launch=9", "gate_check_days_before_launch=9"),
        ("items_per_promotion=400", "items_per_promotion=400"),
    ]:
        with pytest.raises(InvalidInput) as caught:
            _run_with(pair)
        assert str(caught.value).startswith(named)


def test_the_docs_list_every_assumption_and_setting_with_its_value() -> None:
    docs = (Path(__file__).resolve().parents[2] / "docs" / "roi-simulation.md").read_text()
    for a in ASSUMPTIONS:
        assert f"| `{a.name}` | {a.business_as_usual} | {a.promoflow} |" in docs, a.name
    for f in fields(SimulationSettings):
        assert f"| `{f.name}` | {getattr(SETTINGS, f.name)} |" in docs, f.name

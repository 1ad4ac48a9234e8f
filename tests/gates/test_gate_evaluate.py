"""`evaluate` on in-memory inputs: the sentences, the evidence, and JSON safety."""

from __future__ import annotations

import json
import math
from dataclasses import replace
from datetime import date

import polars as pl
import pytest
from gate_retail import NOW

from promoflow.gates.evaluate import WORST_ROWS, GateOutcome, evaluate
from promoflow.gates.inputs import GateInputs
from promoflow.gates.policy import load_gate_policy


def _inputs(upper: list[float], on_hand: list[float]) -> GateInputs:
    """One item at len(upper) stores; every other gate's frame empty.

    The forecast is read like the gate retailer's: mean 0.8 x P90, P10 half of P90 and a
    baseline of half of P90 over the two-week window.
    """
    n = len(upper)
    empty = pl.DataFrame
    return GateInputs(
        promotion_id=1,
        revision=1,
        promotion_code="PRM-1",
        start=date(2026, 11, 16),
        end=date(2026, 11, 29),
        channels=("pos",),
        as_of=NOW,
        quantile="p90",
        forecast_available=True,
        below_cost_approved=False,
        items=pl.DataFrame(
            {
                "item_id": [17],
                "sku": ["SKU-00017"],
                "category": ["snacks"],
                "promo_price": [3.0],
                "unit_cost": [2.0],
            }
        ),
        locations=pl.DataFrame(
            {
                "location_id": range(1, n + 1),
                "code": [f"ST-{j:03d}" for j in range(1, n + 1)],
                "region": ["north"] * n,
            }
        ),
        coverage=pl.DataFrame(
            {
                "item_id": [17] * n,
                "location_id": list(range(1, n + 1)),
                "upper_quantile_units": upper,
                "promoted_units": [u * 0.8 for u in upper],
                "p10": [u * 0.5 for u in upper],
                "p90": upper,
                "baseline_units": [u / 2 for u in upper],
                "on_hand": on_hand,
                "in_transit": [0.0] * n,
                "on_order_before_start": [0.0] * n,
                "allocated": [0.0] * n,
            }
        ),
        forecast_models=pl.DataFrame(
            {"model_version": ["test"], "inputs_hash": ["0" * 64], "lines": [n]}
        ),
        purchase_orders=empty(schema={"po_number": pl.String}),
        supplier_history=empty(schema={"supplier_id": pl.Int64}),
        prices=empty(
            schema={
                "item_id": pl.Int64,
                "zone": pl.String,
                "channel": pl.String,
                "regular_price": pl.Float64,
            }
        ),
        published_prices=empty(
            schema={"item_id": pl.Int64, "channel": pl.String, "amount": pl.Float64}
        ),
        overlaps=empty(
            schema={"other_code": pl.String, "item_id": pl.Int64, "location_id": pl.Int64}
        ),
        approvals=empty(schema={"role": pl.String, "status": pl.String}),
        store_tasks=empty(schema={"location_id": pl.Int64, "kind": pl.String, "status": pl.String}),
        channel_ranging=pl.DataFrame(
            {"item_id": [17], "channel": ["pos"], "ranged_locations": [n], "channel_locations": [n]}
        ),
    )


def test_coverage_sentence_names_share_threshold_and_worst_row() -> None:
    # 1,000 stores: 941 covered (10 on hand for 10), 59 short; ST-004 the worst at 0.42x.
    upper = [10.0] * 1000
    on_hand = [10.0] * 942 + [9.0] * 58
    on_hand[3] = 4.2  # one of the 942 falls short: 941 covered
    outcome = evaluate(_inputs(upper, on_hand), load_gate_policy())[0]
    assert outcome.gate == "inventory_coverage"
    assert outcome.status == "fail"
    assert outcome.summary == (
        "94.1 % of 1,000 item-locations covered at P90 (needs 95 %); "
        "worst: SKU-00017 @ ST-004 0.42x"
    )
    assert len(outcome.evidence["worst"]) == WORST_ROWS
    ratios = [row["coverage_ratio"] for row in outcome.evidence["worst"]]
    assert ratios == sorted(ratios)


def test_no_expected_demand_counts_as_covered_and_evidence_stays_valid_json() -> None:
    outcome = evaluate(_inputs([0.0, 0.0, 5.0], [0.0, 3.0, 5.0]), load_gate_policy())[0]
    assert outcome.status == "pass"
    assert outcome.evidence["covered"] == 3
    assert [row["location"] for row in outcome.evidence["worst"]] == ["ST-003"]
    # PostgreSQL's JSON refuses NaN and Infinity; every outcome must serialise strictly.
    for each in evaluate(_inputs([0.0, 2.0], [1.0, 0.0]), load_gate_policy()):
        json.dumps(each.evidence, allow_nan=False)


def test_every_gate_is_judged_once_in_policy_order() -> None:
    # 30 on hand for a mean of 8 (P90 10): nothing lost, 22 left at 2.5 a week = 8.8 weeks.
    outcomes = evaluate(_inputs([10.0], [30.0]), load_gate_policy())
    assert [o.gate for o in outcomes] == [
        "inventory_coverage",
        "stockout_risk",
        "overstock_risk",
        "supplier_commitments",
        "price_validity",
        "approvals_complete",
        "store_readiness",
        "channel_readiness",
    ]
    assert [o.gate for o in outcomes if not o.blocking] == ["overstock_risk"]
    assert {o.gate for o in outcomes if o.status == "fail"} == {
        "approvals_complete",
        "overstock_risk",
    }


# stockout_risk and overstock_risk on the risk model, by hand

E1, E2 = math.exp(-1), math.exp(-2)


def _risk_inputs() -> GateInputs:
    """Three Poisson item-locations (P10 = P90 = mean) over the two-week window.

    a) SKU-00017 (snacks) @ ST-001 (north): mean 2, 2 available, baseline 0.5 a week
    b) SKU-00018 (drinks) @ ST-001 (north): mean 2, nothing available, baseline 1 a week
    c) SKU-00017 (snacks) @ ST-002 (south): mean 1, 3 available, baseline 0.5 a week
    """
    base = _inputs([1.0, 1.0], [0.0, 0.0])
    coverage = pl.DataFrame(
        {
            "item_id": [17, 18, 17],
            "location_id": [1, 1, 2],
            "upper_quantile_units": [2.0, 2.0, 1.0],
            "promoted_units": [2.0, 2.0, 1.0],
            "p10": [2.0, 2.0, 1.0],
            "p90": [2.0, 2.0, 1.0],
            "baseline_units": [1.0, 2.0, 1.0],
            # a: 1 on hand + 1 in transit + 1 due - 1 allocated = 2
            "on_hand": [1.0, 0.0, 3.0],
            "in_transit": [1.0, 0.0, 0.0],
            "on_order_before_start": [1.0, 0.0, 0.0],
            "allocated": [1.0, 0.0, 0.0],
        }
    )
    items = pl.DataFrame(
        {
            "item_id": [17, 18],
            "sku": ["SKU-00017", "SKU-00018"],
            "category": ["snacks", "drinks"],
            "promo_price": [3.0, 3.0],
            "unit_cost": [2.0, 2.0],
        }
    )
    locations = pl.DataFrame(
        {"location_id": [1, 2], "code": ["ST-001", "ST-002"], "region": ["north", "south"]}
    )
    models = pl.DataFrame({"model_version": ["lgbm-7"], "inputs_hash": ["ab" * 32], "lines": [3]})
    return replace(
        base, coverage=coverage, items=items, locations=locations, forecast_models=models
    )


# Per row, by hand for D ~ Poisson(m): P(D > s), E[(D - s)+] lost, E[(s - D)+] left.
PROB = {"a": 1 - 5 * E2, "b": 1 - E2, "c": 1 - 8 / 3 * E1}
LOST = {"a": 4 * E2, "b": 2.0, "c": 5.5 * E1 - 2}
LEFT = {"a": 4 * E2, "b": 0.0, "c": 5.5 * E1}


def _outcome(inputs: GateInputs, gate: str, **settings: float) -> GateOutcome:
    """The gate's outcome under the bundled policy with `settings` of that gate changed."""
    policy = load_gate_policy()
    changed = getattr(policy.gates, gate).model_copy(update=settings)
    policy = policy.model_copy(update={"gates": policy.gates.model_copy(update={gate: changed})})
    return next(o for o in evaluate(inputs, policy) if o.gate == gate)


def test_stockout_risk_judges_the_share_of_demand_lost_by_hand() -> None:
    outcome = _outcome(_risk_inputs(), "stockout_risk")
    share = sum(LOST.values()) / 5.0
    assert outcome.status == "fail"
    assert outcome.blocking
    assert outcome.score == pytest.approx(round(share, 4))
    assert outcome.threshold == 0.05
    total = outcome.evidence["promotion"]
    assert total["item_locations"] == 3
    assert total["expected_demand_units"] == 5.0
    assert total["expected_lost_units"] == pytest.approx(sum(LOST.values()), abs=1e-4)
    assert total["mean_stockout_probability"] == pytest.approx(sum(PROB.values()) / 3, abs=1e-4)
    assert total["expected_stockouts"] == pytest.approx(sum(PROB.values()), abs=1e-4)
    assert outcome.summary.startswith(
        f"{share * 100:.1f} % of expected demand (5 units) lost to stockouts (allows 5 %)"
    )
    assert outcome.summary.endswith("worst: SKU-00018 @ ST-001 86.5 % chance of running out")


def test_stockout_risk_passes_at_or_under_the_threshold_and_fails_over_it() -> None:
    share = sum(LOST.values()) / 5.0
    under = _outcome(_risk_inputs(), "stockout_risk", max_share_of_demand_lost=share + 1e-3)
    over = _outcome(_risk_inputs(), "stockout_risk", max_share_of_demand_lost=share - 1e-3)
    assert (under.status, over.status) == ("pass", "fail")


def test_stockout_evidence_rolls_up_by_region_and_category_and_names_the_model() -> None:
    evidence = _outcome(_risk_inputs(), "stockout_risk").evidence
    regions = {row["region"]: row for row in evidence["by_region"]}
    assert regions["north"]["item_locations"] == 2
    assert regions["north"]["share_of_demand_at_risk"] == pytest.approx(
        (LOST["a"] + LOST["b"]) / 4.0, abs=1e-4
    )
    assert regions["north"]["max_stockout_probability"] == pytest.approx(PROB["b"], abs=1e-4)
    assert regions["south"]["share_of_demand_at_risk"] == pytest.approx(LOST["c"], abs=1e-4)
    categories = {row["category"]: row for row in evidence["by_category"]}
    assert categories["drinks"]["share_of_demand_at_risk"] == 1.0
    assert categories["snacks"]["expected_lost_units"] == pytest.approx(
        LOST["a"] + LOST["c"], abs=1e-4
    )
    assert [(r["sku"], r["location"]) for r in evidence["worst"]] == [
        ("SKU-00018", "ST-001"),
        ("SKU-00017", "ST-001"),
        ("SKU-00017", "ST-002"),
    ]
    first = evidence["worst"][1]
    assert first["available"] == 2.0  # on hand + in transit + due before start - allocated
    assert first["stockout_probability"] == pytest.approx(PROB["a"], abs=1e-4)
    assert first["region"] == "north" and first["category"] == "snacks"
    assert evidence["forecast_models"] == [
        {"model_version": "lgbm-7", "inputs_hash": "ab" * 32, "lines": 3}
    ]
    json.dumps(evidence, allow_nan=False)


def test_coverage_evidence_carries_stockout_probabilities() -> None:
    evidence = _outcome(_risk_inputs(), "inventory_coverage").evidence
    assert evidence["expected_stockouts"] == pytest.approx(sum(PROB.values()), abs=0.01)
    worst = {(r["sku"], r["location"]): r["stockout_probability"] for r in evidence["worst"]}
    assert worst[("SKU-00018", "ST-001")] == pytest.approx(PROB["b"], abs=1e-4)


def test_overstock_is_weeks_of_baseline_left_after_the_window_and_advisory() -> None:
    # Pooled: left units over baseline weekly units (0.5 + 1 + 0.5 a week).
    weeks = sum(LEFT.values()) / 2.0
    passing = _outcome(_risk_inputs(), "overstock_risk", max_weeks_of_supply=weeks + 0.01)
    failing = _outcome(_risk_inputs(), "overstock_risk", max_weeks_of_supply=weeks - 0.01)
    assert (passing.status, failing.status) == ("pass", "fail")
    assert not failing.blocking
    assert failing.score == pytest.approx(round(weeks, 2))
    evidence = failing.evidence
    assert evidence["promotion"]["expected_left_units"] == pytest.approx(
        sum(LEFT.values()), abs=1e-4
    )
    assert evidence["window_weeks"] == 2.0
    top = evidence["worst"][0]
    assert (top["sku"], top["location"]) == ("SKU-00017", "ST-002")
    assert top["overstock_weeks"] == pytest.approx(LEFT["c"] / 0.5, abs=1e-3)
    assert evidence["item_locations_over"] == 1  # c at 4.0 weeks; a at 1.1 is under 1.27
    assert {row["region"] for row in evidence["by_region"]} == {"north", "south"}


def test_a_forecast_the_risk_model_refuses_fails_the_risk_gates_but_not_coverage() -> None:
    inputs = _risk_inputs()
    crossed = inputs.coverage.with_columns(p10=pl.Series([2.0, 3.0, 1.0]))  # b: P90 2 < P10 3
    outcomes = {o.gate: o for o in evaluate(replace(inputs, coverage=crossed), load_gate_policy())}
    for gate in ("stockout_risk", "overstock_risk"):
        assert outcomes[gate].status == "fail"
        assert outcomes[gate].summary.startswith("the forecast cannot be judged: p90=2.0")
        assert "item_id=18, location_id=1" in outcomes[gate].summary
    assert outcomes["inventory_coverage"].evidence["item_locations"] == 3
    assert "p90=2.0" in outcomes["inventory_coverage"].evidence["risk_problem"]

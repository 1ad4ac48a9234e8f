"""`evaluate` on in-memory inputs: the sentences, the evidence, and JSON safety."""

from __future__ import annotations

import json
from datetime import date

import polars as pl
from gate_retail import NOW

from promoflow.gates.evaluate import WORST_ROWS, evaluate
from promoflow.gates.inputs import GateInputs
from promoflow.gates.policy import load_gate_policy


def _inputs(upper: list[float], on_hand: list[float]) -> GateInputs:
    """One item at len(upper) stores; every other gate's frame empty."""
    n = len(upper)
    empty = pl.DataFrame
    return GateInputs(
        promotion_id=1,
        revision=1,
        promotion_code="PRM-1",
        start=date(2026, 11, 16),
        channels=("pos",),
        as_of=NOW,
        quantile="p90",
        forecast_available=True,
        below_cost_approved=False,
        items=pl.DataFrame(
            {"item_id": [17], "sku": ["SKU-00017"], "promo_price": [3.0], "unit_cost": [2.0]}
        ),
        locations=pl.DataFrame(
            {"location_id": range(1, n + 1), "code": [f"ST-{j:03d}" for j in range(1, n + 1)]}
        ),
        coverage=pl.DataFrame(
            {
                "item_id": [17] * n,
                "location_id": list(range(1, n + 1)),
                "upper_quantile_units": upper,
                "on_hand": on_hand,
                "in_transit": [0.0] * n,
                "on_order_before_start": [0.0] * n,
                "allocated": [0.0] * n,
            }
        ),
        purchase_orders=empty(schema={"po_number": pl.String}),
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
    outcomes = evaluate(_inputs([1.0], [1.0]), load_gate_policy())
    assert [o.gate for o in outcomes] == [
        "inventory_coverage",
        "supplier_commitments",
        "price_validity",
        "approvals_complete",
        "store_readiness",
        "channel_readiness",
    ]
    assert all(o.blocking for o in outcomes)
    assert {o.gate for o in outcomes if o.status == "fail"} == {"approvals_complete"}

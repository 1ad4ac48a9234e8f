"""Evaluation rounds, stored results, events, waivers and re-evaluation."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
import sqlalchemy as sa
import yaml
from gate_retail import NOW, Retail
from sqlalchemy.orm import Session

from promoflow.approvals.models import ApprovalTask
from promoflow.events.models import Event
from promoflow.gates.models import GateResult, GateWaiver
from promoflow.gates.policy import BUNDLED_POLICY, GATE_NAMES, load_gate_policy
from promoflow.gates.service import evaluate_promotion_gates, latest_gate_results, waive_gate
from promoflow.kit.errors import Conflict, Forbidden, InvalidInput
from promoflow.promotions.models import PromotionItem

COVERED = {
    ("SKU-A", "ST-1"): 8.0,
    ("SKU-A", "ST-2"): 10.0,
    ("SKU-B", "ST-1"): 5.0,
    ("SKU-B", "ST-2"): 9.0,
}


def _ready(session: Session, retail: Retail, p90: dict[tuple[str, str], float]) -> None:
    """Everything but coverage in order: a forecast and one approved approval."""
    retail.forecast(session, p90)
    session.add(
        ApprovalTask(
            promotion_id=retail.promotion.id,
            revision=1,
            role="pricing_analyst",
            assigned_role="pricing_analyst",
            status="approved",
            sla_hours=24,
            due_at=NOW,
        )
    )
    session.flush()


def _events(session: Session, type_: str) -> list[Event]:
    return list(
        session.scalars(
            sa.select(Event).where(Event.type == f"io.promoflow.{type_}").order_by(Event.sequence)
        )
    )


def test_round_stores_every_gate_with_evidence_and_one_event(
    session: Session, retail: Retail
) -> None:
    _ready(session, retail, {**COVERED, ("SKU-A", "ST-2"): 20.0})
    round_ = evaluate_promotion_gates(session, retail.promotion, now=NOW)
    assert round_.evaluation == 1
    assert round_.policy_version == "2026.11-2"
    assert [r.gate for r in round_.results] == list(GATE_NAMES)
    assert not round_.launch_ready
    # 10 on hand for a mean of 16 at SKU-A @ ST-2: short of P90, and demand is lost.
    assert round_.failing == ["inventory_coverage", "stockout_risk"]
    assert round_.advisory == []
    stored = session.scalars(sa.select(GateResult)).all()
    assert len(stored) == len(GATE_NAMES)
    coverage = next(r for r in stored if r.gate == "inventory_coverage")
    assert (coverage.status, coverage.score, coverage.threshold) == ("fail", 0.75, 0.95)
    assert coverage.evidence["worst"][0]["sku"] == "SKU-A"
    assert coverage.policy_version == "2026.11-2"
    [event] = _events(session, "gate.evaluated")
    assert event.promotion_id == retail.promotion.id
    assert event.data["gates"]["inventory_coverage"] == "fail"
    assert event.data["gates"]["approvals_complete"] == "pass"
    assert event.data["launch_ready"] is False


def test_inventory_change_flips_coverage_on_re_evaluation(session: Session, retail: Retail) -> None:
    _ready(session, retail, {**COVERED, ("SKU-A", "ST-2"): 14.0})
    first = evaluate_promotion_gates(session, retail.promotion, now=NOW)
    assert first.failing == ["inventory_coverage", "stockout_risk"]
    retail.position(session, "SKU-A", "ST-2").in_transit = 4.0  # 10 + 4 >= 14
    session.flush()
    second = evaluate_promotion_gates(session, retail.promotion, now=NOW)
    assert second.evaluation == 2
    assert second.launch_ready
    assert second.failing == []
    latest = latest_gate_results(session, retail.promotion.id, 1)
    assert {r.evaluation for r in latest} == {2}
    assert next(r for r in latest if r.gate == "inventory_coverage").status == "pass"
    assert next(r for r in latest if r.gate == "stockout_risk").status == "pass"
    assert len(_events(session, "gate.evaluated")) == 2


def test_latest_results_of_a_never_evaluated_revision_are_empty(
    session: Session, retail: Retail
) -> None:
    assert latest_gate_results(session, retail.promotion.id, 1) == []


def test_authorised_waiver_clears_a_blocking_gate_from_the_next_round(
    session: Session, retail: Retail
) -> None:
    _ready(session, retail, {**COVERED, ("SKU-A", "ST-2"): 20.0})
    waiver = waive_gate(
        session,
        retail.promotion,
        "inventory_coverage",
        "sam",
        "supply_chain_planner",
        "  stock arrives on day 2; day 1 is quiet  ",
    )
    assert (waiver.role, waiver.reason) == (
        "supply_chain_planner",
        "stock arrives on day 2; day 1 is quiet",
    )
    # The same short stock fails the stockout risk gate too: it needs its own waiver.
    assert evaluate_promotion_gates(session, retail.promotion, now=NOW).failing == ["stockout_risk"]
    waive_gate(
        session, retail.promotion, "stockout_risk", "sam", "supply_chain_planner", "same reason"
    )
    round_ = evaluate_promotion_gates(session, retail.promotion, now=NOW)
    coverage = next(r for r in round_.results if r.gate == "inventory_coverage")
    assert coverage.status == "waived"
    assert (coverage.waived_by, coverage.waiver_reason) == (
        "sam",
        "stock arrives on day 2; day 1 is quiet",
    )
    assert coverage.score == 0.75  # the evidence stays what it was
    assert round_.launch_ready
    first, _ = _events(session, "gate.waived")
    assert first.actor == "sam"
    assert first.data["gate"] == "inventory_coverage"


def test_waiver_of_a_passing_gate_leaves_it_passing(session: Session, retail: Retail) -> None:
    _ready(session, retail, COVERED)
    waive_gate(
        session,
        retail.promotion,
        "inventory_coverage",
        "sam",
        "supply_chain_planner",
        "belt and braces",
    )
    round_ = evaluate_promotion_gates(session, retail.promotion, now=NOW)
    coverage = next(r for r in round_.results if r.gate == "inventory_coverage")
    assert (coverage.status, coverage.waived_by) == ("pass", None)


def _waivers(session: Session, retail: Retail) -> list[tuple[str, str, str]]:
    rows = session.scalars(
        sa.select(GateWaiver)
        .where(GateWaiver.promotion_id == retail.promotion.id)
        .order_by(GateWaiver.id)
    )
    return [(row.gate, row.waived_by, row.reason) for row in rows]


def test_a_second_waiver_is_refused_and_the_first_stands(session: Session, retail: Retail) -> None:
    waive_gate(session, retail.promotion, "store_readiness", "ola", "store_operations", "first")
    with pytest.raises(Conflict) as refused:
        waive_gate(
            session, retail.promotion, "store_readiness", "ian", "operations_admin", "second"
        )
    message = refused.value.message
    assert "gate store_readiness of promotion PRM-T1 (revision 1)" in message
    assert "already waived by ola (store_operations)" in message
    assert "'first'" in message
    assert _waivers(session, retail) == [("store_readiness", "ola", "first")]
    assert len(_events(session, "gate.waived")) == 1


def test_a_waiver_the_policy_stopped_counting_is_kept_beside_the_new_one(
    session: Session, retail: Retail, tmp_path: Path
) -> None:
    _ready(session, retail, {**COVERED, ("SKU-A", "ST-2"): 20.0})
    waive_gate(
        session, retail.promotion, "inventory_coverage", "ian", "operations_admin", "launch anyway"
    )
    data = yaml.safe_load(BUNDLED_POLICY.read_text())
    data["version"] = "2026.12-1"
    data["gates"]["inventory_coverage"]["waivable_by"] = ["supply_chain_planner"]
    stricter_path = tmp_path / "gates.yaml"
    stricter_path.write_text(yaml.safe_dump(data))
    stricter = load_gate_policy(stricter_path)
    waive_gate(
        session,
        retail.promotion,
        "inventory_coverage",
        "sam",
        "supply_chain_planner",
        "DC delivers on day 1",
        stricter,
    )
    # Both waivers stay on record as given; the one the policy counts is in force.
    assert _waivers(session, retail) == [
        ("inventory_coverage", "ian", "launch anyway"),
        ("inventory_coverage", "sam", "DC delivers on day 1"),
    ]
    round_ = evaluate_promotion_gates(session, retail.promotion, stricter, now=NOW)
    coverage = next(r for r in round_.results if r.gate == "inventory_coverage")
    assert (coverage.status, coverage.waived_by) == ("waived", "sam")
    # Under the bundled policy both count, and the newest is in force.
    round_ = evaluate_promotion_gates(session, retail.promotion, now=NOW)
    coverage = next(r for r in round_.results if r.gate == "inventory_coverage")
    assert (coverage.status, coverage.waived_by) == ("waived", "sam")


@pytest.mark.parametrize(
    "status",
    [
        "draft",
        "submitted",
        "in_approval",
        "approved",
        "publishing",
        "live",
        "on_hold",
        "closed",
        "cancelled",
        "rejected",
    ],
)
def test_gates_are_waived_only_while_the_promotion_waits_at_them(
    session: Session, retail: Retail, status: str
) -> None:
    retail.promotion.status = status
    session.flush()
    with pytest.raises(Conflict) as refused:
        waive_gate(
            session, retail.promotion, "store_readiness", "ola", "store_operations", "signs up"
        )
    assert f"promotion PRM-T1 is {status}" in refused.value.message
    assert "only while the promotion is scheduled" in refused.value.message
    assert _waivers(session, retail) == []
    assert _events(session, "gate.waived") == []


def test_unauthorised_role_is_refused_naming_role_and_gate(
    session: Session, retail: Retail
) -> None:
    with pytest.raises(Forbidden) as refused:
        waive_gate(
            session,
            retail.promotion,
            "inventory_coverage",
            "mia",
            "merchandiser",
            "we need it live",
        )
    message = str(refused.value)
    assert "role 'merchandiser' may not waive gate 'inventory_coverage'" in message
    assert "supply_chain_planner, operations_admin" in message
    assert _events(session, "gate.waived") == []


def test_approvals_cannot_be_waived_by_anyone(session: Session, retail: Retail) -> None:
    with pytest.raises(Forbidden, match="lets no role waive it"):
        waive_gate(
            session, retail.promotion, "approvals_complete", "ian", "operations_admin", "urgent"
        )


@pytest.mark.parametrize("reason", ["", "   "])
def test_waiver_needs_a_reason(session: Session, retail: Retail, reason: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        waive_gate(session, retail.promotion, "price_validity", "pat", "pricing_analyst", reason)
    assert refused.value.field == "reason"


def test_unknown_gate_is_refused(session: Session, retail: Retail) -> None:
    with pytest.raises(InvalidInput) as refused:
        waive_gate(session, retail.promotion, "vibes", "pat", "pricing_analyst", "why not")
    assert refused.value.field == "gate"


def test_waiver_stops_counting_when_the_policy_no_longer_allows_the_role(
    session: Session, retail: Retail, tmp_path: Path
) -> None:
    _ready(session, retail, {**COVERED, ("SKU-A", "ST-2"): 20.0})
    waive_gate(
        session, retail.promotion, "inventory_coverage", "ian", "operations_admin", "launch anyway"
    )
    data = yaml.safe_load(BUNDLED_POLICY.read_text())
    data["version"] = "2026.12-1"
    data["gates"]["inventory_coverage"]["waivable_by"] = ["supply_chain_planner"]
    stricter = tmp_path / "gates.yaml"
    stricter.write_text(yaml.safe_dump(data))
    round_ = evaluate_promotion_gates(
        session, retail.promotion, load_gate_policy(stricter), now=NOW
    )
    coverage = next(r for r in round_.results if r.gate == "inventory_coverage")
    assert coverage.status == "fail"
    assert "no longer counts" in coverage.evidence["ignored_waiver"]
    assert round_.failing == ["inventory_coverage", "stockout_risk"]


def test_non_blocking_failure_does_not_stop_launch(
    session: Session, retail: Retail, tmp_path: Path
) -> None:
    _ready(session, retail, COVERED)
    below_cost = session.get(PromotionItem, (retail.promotion.id, retail.items["SKU-B"].id))
    assert below_cost is not None
    below_cost.promo_price = Decimal("2.50")  # cost is 3.00, no finance approval
    session.flush()
    data = yaml.safe_load(BUNDLED_POLICY.read_text())
    data["gates"]["price_validity"]["blocking"] = False
    advisory = tmp_path / "gates.yaml"
    advisory.write_text(yaml.safe_dump(data))
    round_ = evaluate_promotion_gates(
        session, retail.promotion, load_gate_policy(advisory), now=NOW
    )
    assert round_.launch_ready
    assert round_.advisory == ["price_validity"]


def test_overstock_is_recorded_but_does_not_stop_launch(session: Session, retail: Retail) -> None:
    _ready(session, retail, COVERED)
    for sku, store in COVERED:
        retail.position(session, sku, store).on_hand = 100.0
    session.flush()
    round_ = evaluate_promotion_gates(session, retail.promotion, now=NOW)
    assert round_.launch_ready
    assert round_.failing == []
    assert round_.advisory == ["overstock_risk"]
    overstock = next(r for r in round_.results if r.gate == "overstock_risk")
    assert (overstock.status, overstock.blocking, overstock.threshold) == ("fail", False, 8.0)
    assert overstock.evidence["worst"][0]["sku"] == "SKU-B"  # 5 P90, 1.25 a week
    [event] = _events(session, "gate.evaluated")
    assert event.data["gates"]["overstock_risk"] == "fail"
    assert event.data["launch_ready"] is True

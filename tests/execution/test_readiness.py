"""Readiness at launch: which gate round counts, and why a waived gate is never ready."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from promoflow.execution.readiness import readiness_at_launch
from promoflow.gates.models import GateResult, GateWaiver

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


def _result(evaluation: int, gate: str, status: str, *, blocking: bool = True,
            at: datetime = T0, waived_by: str | None = None) -> GateResult:  # fmt: skip
    return GateResult(
        promotion_id=1, revision=1, evaluation=evaluation, gate=gate, status=status,
        blocking=blocking, summary="", evidence={}, policy_version="t", evaluated_at=at,
        waived_by=waived_by, waiver_reason="stock on its way" if waived_by else None,
    )  # fmt: skip


def test_the_round_in_force_when_publishing_began_counts_not_a_later_one() -> None:
    publishing = T0 + timedelta(hours=2)
    results = [
        _result(1, "inventory_coverage", "fail"),
        _result(1, "price_validity", "pass"),
        _result(2, "inventory_coverage", "waived", at=T0 + timedelta(hours=1), waived_by="sasha"),
        _result(2, "price_validity", "pass", at=T0 + timedelta(hours=1)),
        # Re-evaluated after launch, when the stock had arrived: launch was not ready.
        _result(3, "inventory_coverage", "pass", at=T0 + timedelta(hours=5)),
        _result(3, "price_validity", "pass", at=T0 + timedelta(hours=5)),
    ]
    waiver = GateWaiver(
        promotion_id=1, revision=1, gate="inventory_coverage", waived_by="sasha",
        role="supply_chain_planner", reason="stock on its way",
        waived_at=T0 + timedelta(minutes=30),
    )  # fmt: skip
    readiness = readiness_at_launch(results, [waiver], publishing)
    assert readiness.evaluation == 2
    assert not readiness.fully_ready
    assert readiness.not_ready == ["inventory_coverage"]
    coverage = next(g for g in readiness.gates if g.gate == "inventory_coverage")
    assert (coverage.waived_by, coverage.waiver_role) == ("sasha", "supply_chain_planner")


def test_warnings_do_not_block_readiness_but_a_waiver_always_does() -> None:
    passed = [
        _result(1, "price_validity", "pass"),
        _result(1, "overstock_risk", "fail", blocking=False),
    ]
    assert readiness_at_launch(passed, [], T0 + timedelta(hours=1)).fully_ready
    waived = [*passed, _result(1, "store_readiness", "waived", blocking=False, waived_by="sam")]
    readiness = readiness_at_launch(waived, [], T0 + timedelta(hours=1))
    assert readiness.not_ready == ["store_readiness"]


def test_no_gate_round_is_not_ready() -> None:
    readiness = readiness_at_launch([], [], T0)
    assert not readiness.fully_ready and readiness.evaluation is None

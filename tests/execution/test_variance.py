"""Execution variance of a promotion the lifecycle launched with a waived stock gate.

The promotion's stores hold a few days of stock, so the coverage and stockout gates
fail; a supply chain planner waives both and the lifecycle publishes to the POS and
the web shop and runs the promotion to its close. Its variance must show each
channel's launch, the waived gates as not ready, and stockouts where sales ran into
the stock the stores had.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import pytest
from fastapi.testclient import TestClient
from lifecycle_support import Planned, desk_for, drive, make_planned, submit

from process_support import process_env, run_cli
from promoflow.connectors import registry
from promoflow.execution.variance import execution_variance
from promoflow.kit.db import reading
from promoflow.kit.errors import Conflict
from promoflow.lifecycle import commands
from promoflow.runtime import Runtime

pytestmark = pytest.mark.timeout(300)
WAIVED = ("inventory_coverage", "stockout_risk")


@pytest.fixture(scope="module")
def launched(seeded: object) -> Planned:
    """A promotion short of stock, both stock gates waived, run to its close."""
    from promoflow.runtime import get_runtime

    rt = get_runtime()
    planned = submit(make_planned(rt, items=2, weeks_of_cover=0.05))
    desk = desk_for(planned)
    drive(planned, lambda s: s in ("scheduled", "on_hold"), desk=desk, timeout=120)
    for gate in WAIVED:
        commands.waive_gate(
            planned.promotion_id, gate, "sasha.supply", "supply_chain_planner",
            "vendor ships direct to store on day one",
        )  # fmt: skip
    assert drive(planned, lambda s: s in ("closed", "rejected", "cancelled"), desk=desk,
                 timeout=180) == "closed"  # fmt: skip
    return planned


def _variance(rt: Runtime, ref: str):  # type: ignore[no-untyped-def]
    with reading(rt.sessions) as session:
        return execution_variance(session, ref, registry.get_sales_feed(rt.sessions))


def test_each_channel_shows_its_planned_and_actual_launch(rt: Runtime, launched: Planned) -> None:
    report = _variance(rt, launched.code)
    assert report.status == "closed"
    assert {c.channel for c in report.channels} == {"pos", "ecommerce"}
    with rt.sessions() as session:
        from promoflow.promotions import service

        timing = service.find_promotion(session, launched.code).timing
    planned = datetime.fromisoformat(timing["launch_at"])
    for channel in report.channels:
        assert channel.status == "published"
        assert channel.planned_launch == planned
        assert channel.actual_launch is not None
        hours = (channel.actual_launch - planned).total_seconds() / 3600
        assert channel.late_hours == pytest.approx(hours, abs=0.01)
    # Every store launches with the POS, the web shop with the e-commerce channel.
    pos = next(c for c in report.channels if c.channel == "pos")
    stores = [s for s in report.stores if s.channel == "pos"]
    assert stores and all(s.actual_launch == pos.actual_launch for s in stores)


def test_waived_gates_count_as_not_ready_at_launch(rt: Runtime, launched: Planned) -> None:
    readiness = _variance(rt, launched.code).readiness
    assert not readiness.fully_ready
    assert set(WAIVED) <= set(readiness.not_ready)
    waived = {g.gate: g for g in readiness.gates if g.gate in WAIVED}
    assert all(g.status == "waived" and not g.ready for g in waived.values())
    assert waived["inventory_coverage"].waived_by == "sasha.supply"
    assert waived["inventory_coverage"].waiver_role == "supply_chain_planner"
    # The gates that passed on their own are ready; none of them is in not_ready.
    passed = [g.gate for g in readiness.gates if g.status == "pass"]
    assert passed and not set(passed) & set(readiness.not_ready)


def test_lines_compare_forecast_and_actual_lift_and_stock(rt: Runtime, launched: Planned) -> None:
    report = _variance(rt, launched.code)
    assert report.days_covered == report.window_days == 7
    assert len(report.lines) == report.totals.item_stores > 0
    assert {line.sku for line in report.lines} == set(launched.skus)
    for line in report.lines:
        assert line.weeks == 1
        if line.baseline_units >= 1:
            # Lift against the forecast's baseline (the shown units are rounded to 0.1).
            expected = (line.actual_units / line.baseline_units - 1) * 100
            assert line.actual_lift_pct == pytest.approx(expected, rel=0.05, abs=1.0)
        # Sales never beat the stock the store had; selling all of it is a stockout week.
        assert line.actual_units <= line.stock_units + 0.5
        sold_out = line.actual_units >= line.stock_units - 0.5
        assert line.stockout_weeks == (1 if sold_out else 0), line
    totals = report.totals
    assert totals.actual_units == pytest.approx(sum(x.actual_units for x in report.lines), abs=1)
    assert totals.stockout_weeks == sum(x.stockout_weeks for x in report.lines)
    # A few days of cover for a week of promotion: some shelves ran empty.
    assert totals.item_stores_with_stockout > 0


def test_a_draft_has_no_variance_yet(rt: Runtime) -> None:
    draft = make_planned(rt, items=1)
    with pytest.raises(Conflict) as refused:
        _variance(rt, draft.code)
    assert "status='draft'" in str(refused.value)
    assert refused.value.context["field"] == "status"


def test_the_api_answers_with_auth(
    client: TestClient, auth: Callable[[str], dict[str, str]], rt: Runtime, launched: Planned
) -> None:
    path = f"/api/v1/promotions/{launched.code}/variance"
    assert client.get(path).status_code == 401
    answer = client.get(path, headers=auth("auditor"))
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert {c["channel"] for c in body["channels"]} == {"pos", "ecommerce"}
    assert set(WAIVED) <= set(body["readiness"]["not_ready"])
    draft = make_planned(rt, items=1)
    refused = client.get(f"/api/v1/promotions/{draft.code}/variance", headers=auth("auditor"))
    assert refused.status_code == 409
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert "status='draft'" in refused.json()["detail"]


def test_the_cli_prints_it_as_a_real_process(
    test_settings: object, rt: Runtime, launched: Planned, tmp_path: object
) -> None:
    import json
    from pathlib import Path

    env = process_env(rt.settings.resolved_database_url(), Path(str(tmp_path)))
    shown = run_cli(["promotions", "variance", launched.code], env)
    assert "not ready" in shown and "inventory_coverage" in shown
    assert "pos" in shown and "ecommerce" in shown
    data = json.loads(run_cli(["promotions", "variance", launched.code, "--json"], env))
    assert data["promotion"] == launched.code
    assert data["totals"]["item_stores"] == len(data["lines"])

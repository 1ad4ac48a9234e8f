"""The promotion panel (demo and `promotions show`) tells the whole story, once, uncut."""

from __future__ import annotations

from typing import Any

from rich.console import Console

from promoflow.cli.render import promotion_panel


def _report(**changes: Any) -> dict[str, Any]:
    report: dict[str, Any] = {
        "code": "PRM-1",
        "name": "Cereal buy 2 get 1 free",
        "revision": 1,
        "status": "closed",
        "status_reason": "analysed and posted to finance",
        "timeline": [{"state": "created"}, {"state": "closed"}],
        "gates": [],
        "gate_rounds": [],
        "approvals": [],
        "recommendations": [],
        "purchase_orders": [],
        "publications": [],
        "exceptions": [],
        "findings": [],
        "analysis": None,
    }
    report.update(changes)
    return report


def _text(report: dict[str, Any], width: int = 100) -> str:
    console = Console(width=width, record=True, color_system=None)
    console.print(promotion_panel(report, "en_GB"))
    return " ".join(line.strip("│ ").strip() for line in console.export_text().splitlines())


def _round(failing: list[str], waived: list[str] | None = None) -> dict[str, Any]:
    return {"evaluation": 1, "gates": 8, "failing": failing, "warnings": [], "waived": waived or []}


def test_every_gate_round_shows_so_a_block_and_its_clearing_are_both_visible() -> None:
    blocked = _round(["inventory_coverage", "stockout_risk"])
    text = _text(
        _report(gate_rounds=[blocked, blocked, blocked, _round([]), _round([], ["stockout_risk"])])
    )
    assert (
        "rounds 1–3 blocked by inventory_coverage, stockout_risk; "
        "round 4 every blocking gate passed; "
        "round 5 every blocking gate passed (waived stockout_risk)"
    ) in text


def test_allocations_and_purchase_orders_name_where_stock_comes_from_and_goes() -> None:
    recommendations = [
        {
            "id": 1,
            "kind": "allocation",
            "status": "accepted",
            "decided_by": "sasha.supply",
            "units_proposed": 840.0,
            "units_decided": 840.0,
            "from": ["DC-01"],
            "to": ["ST-001", "ST-002", "ST-003", "ST-004"],
        },
        {
            "id": 2,
            "kind": "replenishment",
            "status": "accepted",
            "decided_by": "sasha.supply",
            "units_proposed": 1.0,
            "units_decided": 1.0,
            "from": ["SUP-007"],
            "to": ["DC-02"],
        },
    ]
    orders = [
        {
            "number": "PO-1",
            "supplier": "SUP-007",
            "destination": "DC-02",
            "units": 396.0,
            "status": "open",
            "ack_status": "acknowledged",
            "due": "2026-12-21",
        }
    ]
    text = _text(_report(recommendations=recommendations, purchase_orders=orders))
    assert "allocation #1 accepted by sasha.supply: 840 units from DC-01 to 4 stores" in text
    assert "replenishment #2 accepted by sasha.supply: 1 unit ordered" in text
    assert "purchase order PO-1: 396 units from supplier SUP-007 to DC-02, acknowledged" in text


def test_validation_findings_print_once_and_no_word_is_cut() -> None:
    messages = [
        "SKU-00031 is restricted and may not be discounted (rule item_restricted); remove it",
        "SKU-00031 is not promotion-eligible (rule item_not_eligible); remove it",
    ]
    text = _text(
        _report(
            status="rejected",
            status_reason="validation failed: " + "; ".join(messages),
            findings=[{"severity": "blocking", "message": m} for m in messages],
        ),
        width=60,
    )
    assert "validation failed on 2 blocking findings" in text
    # Each finding once (the reason no longer repeats them), every word whole.
    assert text.count("(rule item_restricted)") == 1
    assert text.count("(rule item_not_eligible)") == 1
    for message in messages:
        assert all(word in text.split() for word in message.split())


def test_the_result_says_whether_sales_fell_within_the_forecast_interval() -> None:
    analysis = {
        "actual_units": 247.0,
        "forecast_units": 365.0,
        "forecast_p10_units": 260.0,
        "forecast_p90_units": 470.0,
        "revenue": {"amount": "300.00", "currency": "EUR"},
        "margin": {"amount": "12.50", "currency": "EUR"},
    }
    text = _text(_report(analysis=analysis))
    assert "sold 247 units (forecast 365; below its 80 % interval 260–470)" in text

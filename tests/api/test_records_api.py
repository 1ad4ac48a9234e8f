"""Reading what the lifecycle recorded for a promotion: findings, gates, events."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

Auth = Callable[[str], dict[str, str]]


@pytest.fixture
def draft(client: TestClient, auth: Auth, promotion_body: dict[str, Any]) -> dict[str, Any]:
    response = client.post("/api/v1/promotions", json=promotion_body, headers=auth("merchandiser"))
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


def _store(*rows: object) -> None:
    from promoflow.kit.db import transaction
    from promoflow.runtime import get_runtime

    with transaction(get_runtime().sessions) as session:
        session.add_all(rows)


def test_events_are_cloudevents_in_order(
    client: TestClient, auth: Auth, draft: dict[str, Any]
) -> None:
    response = client.get(f"/api/v1/promotions/{draft['code']}/events", headers=auth("auditor"))
    assert response.status_code == 200
    page = response.json()
    assert page["total"] == 1
    event = page["items"][0]
    assert event["specversion"] == "1.0"
    assert event["type"] == "io.promoflow.promotion.created"
    assert event["subject"] == f"promotion/{draft['id']}"
    assert event["data"]["code"] == draft["code"]
    assert event["datacontenttype"] == "application/json"


def test_findings_of_the_current_revision(
    client: TestClient, auth: Auth, draft: dict[str, Any]
) -> None:
    from promoflow.promotions.models import ValidationFinding

    def finding(revision: int, rule: str) -> ValidationFinding:
        return ValidationFinding(
            promotion_id=draft["id"], revision=revision, rule=rule, severity="blocking",
            item_sku="SKU-X", location_code=None, message=f"{rule} failed",
            details={"depth": 0.6},
        )  # fmt: skip

    _store(finding(1, "max_discount_depth"), finding(2, "from_a_later_revision"))
    response = client.get(f"/api/v1/promotions/{draft['id']}/findings", headers=auth("auditor"))
    assert response.status_code == 200
    items = response.json()["items"]
    assert [f["rule"] for f in items] == ["max_discount_depth"]
    assert items[0]["details"] == {"depth": 0.6}
    assert items[0]["item_sku"] == "SKU-X"


def test_gates_show_the_latest_result_with_evidence(
    client: TestClient, auth: Auth, draft: dict[str, Any]
) -> None:
    from promoflow.gates.models import GateResult

    def result(evaluation: int, status: str, covered: float) -> GateResult:
        return GateResult(
            promotion_id=draft["id"], revision=1, evaluation=evaluation,
            gate="inventory_coverage", status=status, blocking=True, score=covered,
            threshold=1.0, summary=f"coverage {covered}", evidence={"coverage": covered},
            policy_version="test-1",
        )  # fmt: skip

    _store(result(1, "fail", 0.7), result(2, "pass", 1.2))
    response = client.get(f"/api/v1/promotions/{draft['id']}/gates", headers=auth("auditor"))
    assert response.status_code == 200
    gates = response.json()["items"]
    assert len(gates) == 1
    assert gates[0]["gate"] == "inventory_coverage"
    assert gates[0]["status"] == "pass"
    assert gates[0]["evaluation"] == 2
    assert gates[0]["evidence"] == {"coverage": 1.2}


def test_a_draft_has_no_approvals_or_publications_yet(
    client: TestClient, auth: Auth, draft: dict[str, Any]
) -> None:
    for record in ("approvals", "publications"):
        response = client.get(f"/api/v1/promotions/{draft['id']}/{record}", headers=auth("auditor"))
        assert response.status_code == 200, record
        assert response.json()["items"] == [], record


def test_waiving_a_gate_follows_the_gate_policy(
    client: TestClient, auth: Auth, draft: dict[str, Any]
) -> None:
    path = f"/api/v1/promotions/{draft['id']}/gates"
    reason = {"reason": "stock arrives the day before launch"}
    refused = client.post(f"{path}/inventory_coverage/waive", json=reason, headers=auth("auditor"))
    assert refused.status_code == 403
    assert "supply_chain_planner" in refused.json()["detail"]

    unknown = client.post(
        f"{path}/no_such_gate/waive", json=reason, headers=auth("operations_admin")
    )
    assert unknown.status_code == 422
    assert unknown.json()["errors"][0]["field"] == "gate"
    assert unknown.json()["errors"][0]["value"] == "no_such_gate"

    # A draft never reached its launch gates: a waiver now would apply unseen later.
    on_draft = client.post(
        f"{path}/inventory_coverage/waive", json=reason, headers=auth("supply_chain_planner")
    )
    assert on_draft.status_code == 409, on_draft.text
    assert f"promotion {draft['code']} is draft" in on_draft.json()["detail"]

    _set_status(draft["id"], "scheduled")  # where the workflow waits at its launch gates
    try:
        waived = client.post(
            f"{path}/inventory_coverage/waive", json=reason, headers=auth("supply_chain_planner")
        )
        assert waived.status_code == 200, waived.text
        assert waived.json()["waived_by"] == "supply_chain_planner-tester"
        assert waived.json()["reason"] == reason["reason"]
        again = client.post(
            f"{path}/inventory_coverage/waive",
            json={"reason": "overwrite it"},
            headers=auth("operations_admin"),
        )
        assert again.status_code == 409, again.text
        assert "already waived by supply_chain_planner-tester" in again.json()["detail"]
    finally:
        _set_status(draft["id"], "cancelled")
    events = client.get(f"/api/v1/promotions/{draft['id']}/events", headers=auth("auditor"))
    types = [event["type"] for event in events.json()["items"]]
    assert types.count("io.promoflow.gate.waived") == 1


def _set_status(promotion_id: int, status: str) -> None:
    """Put the promotion where the workflow would have taken it."""
    import sqlalchemy as sa

    from promoflow.kit.db import transaction
    from promoflow.promotions.models import Promotion
    from promoflow.runtime import get_runtime

    with transaction(get_runtime().sessions) as session:
        session.execute(
            sa.update(Promotion).where(Promotion.id == promotion_id).values(status=status)
        )

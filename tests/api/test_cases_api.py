"""Exception cases and approval decisions: owner roles are enforced over the API."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

Auth = Callable[[str], dict[str, str]]
PROBLEM = "application/problem+json"


@pytest.fixture
def open_case(client: TestClient, auth: Auth, promotion_body: dict[str, Any]) -> int:
    """An open supplier-shortfall case owned by the supply chain planner."""
    from promoflow.exceptions.models import ExceptionCase
    from promoflow.kit.db import transaction
    from promoflow.runtime import get_runtime

    promotion = client.post(
        "/api/v1/promotions", json=promotion_body, headers=auth("merchandiser")
    ).json()
    with transaction(get_runtime().sessions) as session:
        case = ExceptionCase(
            kind="supplier_shortfall", severity="high", owner_role="supply_chain_planner",
            promotion_id=promotion["id"], revision=1, title="Supplier short on SKU",
            linked={"promotion": promotion["code"]}, allowed_actions=["retry", "waive"],
        )  # fmt: skip
        session.add(case)
        session.flush()
        return case.id


def test_list_and_read_cases(client: TestClient, auth: Auth, open_case: int) -> None:
    listed = client.get(
        "/api/v1/exceptions?status=open&owner_role=supply_chain_planner", headers=auth("auditor")
    )
    assert listed.status_code == 200
    assert open_case in [case["id"] for case in listed.json()["items"]]
    case = client.get(f"/api/v1/exceptions/{open_case}", headers=auth("auditor")).json()
    assert case["kind"] == "supplier_shortfall"
    assert case["allowed_actions"] == ["retry", "waive"]


def test_unknown_case_is_404(client: TestClient, auth: Auth) -> None:
    response = client.get("/api/v1/exceptions/999999", headers=auth("auditor"))
    assert response.status_code == 404
    assert response.headers["content-type"] == PROBLEM


def test_bad_case_filter_names_the_field(client: TestClient, auth: Auth) -> None:
    response = client.get("/api/v1/exceptions?owner_role=wizard", headers=auth("auditor"))
    assert response.status_code == 422
    assert response.json()["errors"][0] == {
        "field": "owner_role",
        "value": "wizard",
        "message": response.json()["errors"][0]["message"],
    }


def test_only_the_owner_role_resolves_a_case(
    client: TestClient, auth: Auth, open_case: int
) -> None:
    path = f"/api/v1/exceptions/{open_case}/actions"
    action = {"action": "waive", "reason": "a substitute SKU covers the gap"}
    refused = client.post(path, json=action, headers=auth("merchandiser"))
    assert refused.status_code == 403
    assert refused.headers["content-type"] == PROBLEM
    still_open = client.get(f"/api/v1/exceptions/{open_case}", headers=auth("auditor")).json()
    assert still_open["status"] == "open"

    done = client.post(path, json=action, headers=auth("supply_chain_planner"))
    assert done.status_code == 200, done.text
    assert done.json()["status"] == "resolved"
    assert done.json()["resolved_by"] == "supply_chain_planner-tester"


def test_deciding_an_unknown_task_is_404(client: TestClient, auth: Auth) -> None:
    response = client.post(
        "/api/v1/approvals/999999/decision",
        json={"decision": "approve"},
        headers=auth("finance_approver"),
    )
    assert response.status_code == 404


def test_a_decision_must_be_approve_or_reject(client: TestClient, auth: Auth) -> None:
    response = client.post(
        "/api/v1/approvals/1/decision", json={"decision": "maybe"}, headers=auth("finance_approver")
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "decision"
    assert response.json()["errors"][0]["value"] == "maybe"


def test_pending_approvals_default_to_the_callers_role(client: TestClient, auth: Auth) -> None:
    response = client.get("/api/v1/approvals", headers=auth("finance_approver"))
    assert response.status_code == 200
    assert all(task["assigned_role"] == "finance_approver" for task in response.json()["items"])

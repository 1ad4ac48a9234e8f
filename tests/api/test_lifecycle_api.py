"""Submit a promotion and approve it, end to end, over the API only."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

try:
    import promoflow.lifecycle.workflows  # noqa: F401

    HAVE_WORKFLOWS = True
except ImportError:
    HAVE_WORKFLOWS = False

Auth = Callable[[str], dict[str, str]]
pytestmark = pytest.mark.skipif(not HAVE_WORKFLOWS, reason="lifecycle workflows not written yet")
DEADLINE_SECONDS = 60.0


def _get(client: TestClient, auth: Auth, path: str) -> Any:
    response = client.get(path, headers=auth("auditor"))
    assert response.status_code == 200, response.text
    return response.json()


def _event_types(client: TestClient, auth: Auth, promotion_id: int) -> list[str]:
    page = _get(client, auth, f"/api/v1/promotions/{promotion_id}/events?limit=500")
    return [event["type"].removeprefix("io.promoflow.") for event in page["items"]]


def _approve_pending(client: TestClient, auth: Auth, promotion_id: int) -> int:
    """Approve every pending task of the promotion with its assigned role's key."""
    tasks = _get(client, auth, f"/api/v1/promotions/{promotion_id}/approvals")["items"]
    approved = 0
    for task in tasks:
        if task["status"] != "pending":
            continue
        response = client.post(
            f"/api/v1/approvals/{task['id']}/decision",
            json={"decision": "approve", "comment": "fine by me"},
            headers=auth(task["assigned_role"]),
        )
        # 409: the workflow moved the task on (expired) between our read and our decision.
        assert response.status_code in (200, 409), response.text
        approved += response.status_code == 200
    return approved


def test_submit_then_approve_over_the_api(
    client: TestClient, auth: Auth, promotion_body: dict[str, Any]
) -> None:
    created = client.post("/api/v1/promotions", json=promotion_body, headers=auth("merchandiser"))
    assert created.status_code == 201, created.text
    promotion_id = created.json()["id"]

    submitted = client.post(
        f"/api/v1/promotions/{promotion_id}/submit",
        json={"launch_lead_hours": 2, "live_hours": 2},
        headers=auth("merchandiser"),
    )
    assert submitted.status_code == 202, submitted.text
    accepted = submitted.json()
    assert accepted["workflow_id"] == f"promotion-{promotion_id}-rev-1"
    assert accepted["status_url"] == f"/api/v1/promotions/{promotion_id}"

    deadline = time.monotonic() + DEADLINE_SECONDS
    decided = 0
    while time.monotonic() < deadline:
        status = _get(client, auth, accepted["status_url"])["status"]
        if status not in ("draft", "submitted", "validated", "assessed", "in_approval"):
            break
        if status == "in_approval":
            decided += _approve_pending(client, auth, promotion_id)
        time.sleep(0.02)

    detail = _get(client, auth, accepted["status_url"])
    findings = _get(client, auth, f"/api/v1/promotions/{promotion_id}/findings")["items"]
    assert detail["status"] not in ("rejected", "cancelled"), (detail, findings)
    assert decided >= 1
    types = _event_types(client, auth, promotion_id)
    assert "promotion.submitted" in types
    assert "approval.decided" in types
    assert "promotion.approved" in types
    assert detail["workflow_id"] == accepted["workflow_id"]
    assert detail["timing"]["launch_at"]


def test_submitting_twice_is_a_conflict(
    client: TestClient, auth: Auth, promotion_body: dict[str, Any]
) -> None:
    created = client.post("/api/v1/promotions", json=promotion_body, headers=auth("merchandiser"))
    path = f"/api/v1/promotions/{created.json()['id']}/submit"
    assert client.post(path, headers=auth("merchandiser")).status_code == 202
    deadline = time.monotonic() + DEADLINE_SECONDS
    while _get(client, auth, created.headers["Location"])["status"] == "draft":
        assert time.monotonic() < deadline, "the workflow never recorded the submission"
        time.sleep(0.02)
    again = client.post(path, headers=auth("merchandiser"))
    assert again.status_code == 409
    assert again.headers["content-type"] == "application/problem+json"

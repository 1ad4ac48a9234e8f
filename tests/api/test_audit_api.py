"""The audit trail over the API: changes with before and after, refusals, and who may read it."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient

Auth = Callable[[str], dict[str, str]]
DEADLINE_SECONDS = 60.0
IN_REVIEW = ("draft", "submitted", "validated", "assessed", "in_approval")


def _records(client: TestClient, auth: Auth, **filters: Any) -> list[dict[str, Any]]:
    response = client.get("/api/v1/audit", params=filters, headers=auth("auditor"))
    assert response.status_code == 200, response.text
    return list(response.json()["items"])


def _by_request(client: TestClient, auth: Auth, request_id: str) -> dict[str, Any]:
    (record,) = _records(client, auth, request_id=request_id)
    return record


def _as(auth: Auth, role: str, request_id: str) -> dict[str, str]:
    return {**auth(role), "X-Request-ID": request_id}


def _rid(label: str) -> str:
    return f"{label}-{uuid.uuid4().hex[:12]}"


def test_create_submit_and_decide_are_recorded_with_before_and_after(
    client: TestClient, auth: Auth, promotion_body: dict[str, Any]
) -> None:
    start = date.today() + timedelta(days=260)
    body = {
        **promotion_body,
        "start_date": start.isoformat(),
        "end_date": (start + timedelta(days=6)).isoformat(),
    }
    create_id = _rid("create")
    created = client.post(
        "/api/v1/promotions", json=body, headers=_as(auth, "merchandiser", create_id)
    )
    assert created.status_code == 201, created.text
    promotion = created.json()

    record = _by_request(client, auth, create_id)
    assert record["action"] == "promotion.create"
    assert record["route"] == "POST /api/v1/promotions"
    assert (record["actor_name"], record["role"], record["channel"]) == (
        "merchandiser-tester",
        "merchandiser",
        "api",
    )
    # The identity's stable subject and banner scope ride along (a development-list key
    # stands for every banner).
    assert record["actor_subject"] and record["banners"] == ["*"]
    assert (record["object_type"], record["object_ref"]) == ("promotion", promotion["code"])
    assert record["before"] is None and record["after"]["status"] == "draft"
    assert (record["outcome"], record["status"]) == ("allowed", None)

    submit_id = _rid("submit")
    url = f"/api/v1/promotions/{promotion['id']}"
    submitted = client.post(
        f"{url}/submit",
        json={"launch_lead_hours": 1000, "live_hours": 2},
        headers=_as(auth, "merchandiser", submit_id),
    )
    assert submitted.status_code == 202, submitted.text
    record = _by_request(client, auth, submit_id)
    assert record["action"] == "promotion.submit"
    assert record["before"]["status"] == "draft"
    assert record["after"]["submitted_workflow_id"] == submitted.json()["workflow_id"]

    decision = _approve_one(client, auth, promotion["id"], url)
    assert decision["action"] == "approval.approve"
    assert decision["object_type"] == "approval_task"
    assert decision["before"]["status"] == "pending"
    assert decision["after"]["status"] == "approved"
    assert decision["after"]["decided_by"] == decision["actor_name"]
    assert decision["reason"] == "fine by me"

    client.post(f"{url}/cancel", json={"reason": "test over"}, headers=auth("operations_admin"))


def _approve_one(client: TestClient, auth: Auth, promotion_id: int, url: str) -> dict[str, Any]:
    """Approve the promotion's pending tasks until one decision goes through; its record."""
    deadline = time.monotonic() + DEADLINE_SECONDS
    while time.monotonic() < deadline:
        status = client.get(url, headers=auth("auditor")).json()["status"]
        assert status in IN_REVIEW, f"left review ({status}) before anyone approved"
        tasks = client.get(f"{url}/approvals", headers=auth("auditor")).json()["items"]
        for task in (t for t in tasks if t["status"] == "pending"):
            request_id = _rid("decide")
            response = client.post(
                f"/api/v1/approvals/{task['id']}/decision",
                json={"decision": "approve", "comment": "fine by me"},
                headers=_as(auth, task["assigned_role"], request_id),
            )
            if response.status_code == 200:
                return _by_request(client, auth, request_id)
        time.sleep(0.02)
    raise AssertionError(f"no approval went through within {DEADLINE_SECONDS}s")


def test_a_request_without_a_key_is_recorded_as_denied(client: TestClient, auth: Auth) -> None:
    request_id = _rid("nokey")
    refused = client.get("/api/v1/promotions", headers={"X-Request-ID": request_id})
    assert refused.status_code == 401
    record = _by_request(client, auth, request_id)
    assert (record["outcome"], record["status"]) == ("denied", 401)
    assert record["actor_name"] is None
    assert record["route"] == "GET /api/v1/promotions"
    assert "missing credentials" in record["reason"]


def test_a_forbidden_change_is_recorded_with_who_tried_it(
    client: TestClient, auth: Auth, promotion_body: dict[str, Any], promotion_rows: Any
) -> None:
    before = promotion_rows()
    request_id = _rid("forbidden")
    refused = client.post(
        "/api/v1/promotions", json=promotion_body, headers=_as(auth, "store_operations", request_id)
    )
    assert refused.status_code == 403
    assert promotion_rows() == before
    record = _by_request(client, auth, request_id)
    assert (record["outcome"], record["status"]) == ("denied", 403)
    assert (record["actor_name"], record["role"]) == ("store_operations-tester", "store_operations")
    assert "may not create, revise, submit and cancel promotions" in record["reason"]


def test_a_change_through_the_unit_of_work_is_recorded(client: TestClient, auth: Auth) -> None:
    name = f"audit-{uuid.uuid4().hex[:8]}"
    request_id = _rid("connection")
    body = {"name": name, "connector": "sandbox", "config": {}, "serves": ["inventory"]}
    created = client.post(
        "/api/v1/connections", json=body, headers=_as(auth, "operations_admin", request_id)
    )
    assert created.status_code == 201, created.text
    record = _by_request(client, auth, request_id)
    assert (record["action"], record["status"]) == ("POST /api/v1/connections", 201)
    assert (record["object_type"], record["actor_name"]) == (
        "connections",
        "operations_admin-tester",
    )


def test_auditors_and_administrators_page_through_it_and_a_merchandiser_may_not(
    client: TestClient, auth: Auth
) -> None:
    for _ in range(3):  # refusals enough for two pages
        client.get("/api/v1/promotions")
    refused = client.get("/api/v1/audit", headers=auth("merchandiser"))
    assert refused.status_code == 403
    assert "may not read the audit log" in refused.json()["detail"]

    first = client.get("/api/v1/audit", params={"limit": 2}, headers=auth("operations_admin"))
    assert first.status_code == 200, first.text
    page = first.json()
    assert len(page["items"]) == 2 and page["next_cursor"]
    second = client.get(
        "/api/v1/audit", params={"limit": 2, "cursor": page["next_cursor"]}, headers=auth("auditor")
    ).json()
    assert second["items"][0]["sequence"] > page["items"][-1]["sequence"]
    denied = _records(client, auth, outcome="denied", actor="merchandiser-tester", limit=500)
    assert any(r["route"] == "GET /api/v1/audit" and r["status"] == 403 for r in denied)


def test_the_time_filter_takes_iso_times_only(client: TestClient, auth: Auth) -> None:
    request_id = _rid("window")
    client.get("/api/v1/promotions", headers={"X-Request-ID": request_id})
    now = datetime.now(UTC)
    window = {"since": (now - timedelta(minutes=5)).isoformat(), "request_id": request_id}
    assert len(_records(client, auth, **window)) == 1
    assert (
        _records(client, auth, **{**window, "until": (now - timedelta(minutes=4)).isoformat()})
        == []
    )
    for value in ("0.5", "yesterday"):
        refused = client.get("/api/v1/audit", params={"until": value}, headers=auth("auditor"))
        assert refused.status_code == 422, refused.text
        assert refused.json()["errors"][0]["field"] == "until"

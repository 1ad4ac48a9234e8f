"""Submit a promotion and approve it, end to end, over the API only."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

import pytest
from fastapi.testclient import TestClient

if TYPE_CHECKING:
    from tests.api.conftest import Catalog

try:
    import promoflow.lifecycle.workflows  # noqa: F401

    HAVE_WORKFLOWS = True
except ImportError:
    HAVE_WORKFLOWS = False

Auth = Callable[[str], dict[str, str]]
pytestmark = pytest.mark.skipif(not HAVE_WORKFLOWS, reason="lifecycle workflows not written yet")
DEADLINE_SECONDS = 60.0
IN_REVIEW = ("draft", "submitted", "validated", "assessed", "in_approval")


def _own_window(body: dict[str, Any], days_ahead: int, skus: list[str]) -> dict[str, Any]:
    """The body moved to dates and items no other test promotes, so nothing overlaps it."""
    start = date.today() + timedelta(days=days_ahead)
    end = start + timedelta(days=6)
    return {**body, "items": skus, "start_date": start.isoformat(), "end_date": end.isoformat()}


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
        # At test speed an SLA lapses in a fraction of a second: the workflow may have
        # escalated (403, now assigned elsewhere) or expired (409) the task since we read
        # it. The caller re-reads; the final status shows whether approval went through.
        assert response.status_code in (200, 403, 409), response.text
        approved += response.status_code == 200
    return approved


def _wait_for_status(
    client: TestClient, auth: Auth, url: str, done: Callable[[str], bool]
) -> dict[str, Any]:
    deadline = time.monotonic() + DEADLINE_SECONDS
    while not done((detail := _get(client, auth, url))["status"]):
        assert time.monotonic() < deadline, f"still {detail['status']} after {DEADLINE_SECONDS}s"
        time.sleep(0.02)
    return dict(detail)


def _cancel(client: TestClient, auth: Auth, url: str) -> None:
    """Cancel a running promotion over the API and wait for the workflow to confirm it."""
    response = client.post(
        f"{url}/cancel", json={"reason": "test over"}, headers=auth("operations_admin")
    )
    assert response.status_code == 202, response.text
    _wait_for_status(client, auth, url, lambda status: status == "cancelled")


def test_submit_approve_confirm_then_cancel_over_the_api(
    client: TestClient, auth: Auth, promotion_body: dict[str, Any]
) -> None:
    body = _own_window(promotion_body, 200, promotion_body["items"])
    created = client.post("/api/v1/promotions", json=body, headers=auth("merchandiser"))
    assert created.status_code == 201, created.text
    promotion_id = created.json()["id"]

    submitted = client.post(
        f"/api/v1/promotions/{promotion_id}/submit",
        # Launch far enough out (20 s at test speed) that it is still scheduled when cancelled.
        json={"launch_lead_hours": 1000, "live_hours": 2},
        headers=auth("merchandiser"),
    )
    assert submitted.status_code == 202, submitted.text
    accepted = submitted.json()
    url = accepted["status_url"]
    assert accepted["workflow_id"] == f"promotion-{promotion_id}-rev-1"
    assert url == f"/api/v1/promotions/{promotion_id}"

    deadline = time.monotonic() + DEADLINE_SECONDS
    decided = 0
    while (status := _get(client, auth, url)["status"]) in IN_REVIEW:
        assert time.monotonic() < deadline, f"still {status} after {DEADLINE_SECONDS}s"
        if status == "in_approval":
            decided += _approve_pending(client, auth, promotion_id)
        time.sleep(0.02)

    findings = _get(client, auth, f"{url}/findings")["items"]
    assert status in ("approved", "scheduled"), (status, findings)
    assert decided >= 1
    detail = _get(client, auth, url)
    assert detail["workflow_id"] == accepted["workflow_id"]
    assert detail["timing"]["launch_at"]
    types = _event_types(client, auth, promotion_id)
    for expected in ("promotion.submitted", "approval.decided", "promotion.approved"):
        assert expected in types

    deadline = time.monotonic() + DEADLINE_SECONDS
    while "store_tasks.created" not in _event_types(client, auth, promotion_id):
        assert time.monotonic() < deadline, "the workflow never sent the store tasks"
        time.sleep(0.02)
    confirmed = client.post(
        f"{url}/store-tasks/confirm",
        json={"location_codes": None},
        headers=auth("store_operations"),
    )
    assert confirmed.status_code == 200, confirmed.text
    assert confirmed.json()["confirmed"] == len(body["locations"])  # signage in each store

    _cancel(client, auth, url)
    assert "promotion.cancelled" in _event_types(client, auth, promotion_id)


def test_submitting_a_running_promotion_is_a_conflict(
    client: TestClient, auth: Auth, promotion_body: dict[str, Any], catalog: Catalog
) -> None:
    body = _own_window(promotion_body, 230, catalog.skus[2:])
    created = client.post("/api/v1/promotions", json=body, headers=auth("merchandiser"))
    url = created.headers["Location"]
    assert client.post(f"{url}/submit", headers=auth("merchandiser")).status_code == 202
    detail = _wait_for_status(client, auth, url, lambda status: status != "draft")
    assert detail["status"] != "rejected", "validation rejected the promotion; see its findings"

    again = client.post(f"{url}/submit", headers=auth("merchandiser"))
    assert again.status_code == 409
    assert again.headers["content-type"] == "application/problem+json"
    _cancel(client, auth, url)

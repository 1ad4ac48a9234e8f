"""`POST /promotions/{ref}/revisions` (issue 12, item 6): change a draft, or open a rejected
promotion's next revision, with every changed field checked as on create."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from fastapi.testclient import TestClient

if TYPE_CHECKING:
    from tests.api.conftest import Catalog

Auth = Callable[[str], dict[str, str]]
DEADLINE_SECONDS = 60.0


def _create(client: TestClient, auth: Auth, body: dict[str, Any]) -> dict[str, Any]:
    created = client.post("/api/v1/promotions", json=body, headers=auth("merchandiser"))
    assert created.status_code == 201, created.text
    return dict(created.json())


def _detail(client: TestClient, auth: Auth, promotion_id: int) -> dict[str, Any]:
    response = client.get(f"/api/v1/promotions/{promotion_id}", headers=auth("auditor"))
    assert response.status_code == 200, response.text
    return dict(response.json())


def _revise(
    client: TestClient, auth: Auth, promotion_id: int, changes: dict[str, Any], role: str
) -> Any:
    # Revising needs the ETag of the promotion as read (If-Match).
    read = client.get(f"/api/v1/promotions/{promotion_id}", headers=auth("auditor"))
    headers = {**auth(role), "If-Match": read.headers["ETag"]}
    return client.post(
        f"/api/v1/promotions/{promotion_id}/revisions", json=changes, headers=headers
    )


def _window(body: dict[str, Any], days_ahead: int) -> dict[str, Any]:
    start = date.today() + timedelta(days=days_ahead)
    end = start + timedelta(days=6)
    return {**body, "start_date": start.isoformat(), "end_date": end.isoformat()}


def _events(client: TestClient, auth: Auth, promotion_id: int) -> list[dict[str, Any]]:
    page = client.get(
        f"/api/v1/promotions/{promotion_id}/events?limit=500", headers=auth("auditor")
    ).json()
    return list(page["items"])


def _wait_for(
    client: TestClient, auth: Auth, promotion_id: int, done: Callable[[str], bool]
) -> str:
    deadline = time.monotonic() + DEADLINE_SECONDS
    while not done(status := _detail(client, auth, promotion_id)["status"]):
        assert time.monotonic() < deadline, f"still {status} after {DEADLINE_SECONDS}s"
        time.sleep(0.02)
    return status


def test_revising_a_draft_reprices_its_items_and_keeps_its_open_revision(
    client: TestClient, auth: Auth, promotion_body: dict[str, Any], catalog: Catalog
) -> None:
    promotion = _create(client, auth, _window(promotion_body, 300))
    revised = _revise(client, auth, promotion["id"], {"discount_percent": 25}, "merchandiser")
    assert revised.status_code == 201, revised.text
    assert revised.headers["Location"] == f"/api/v1/promotions/{promotion['id']}"
    assert (revised.json()["status"], revised.json()["revision"]) == ("draft", 1)
    detail = _detail(client, auth, promotion["id"])
    assert Decimal(detail["discount_percent"]) == 25
    for item in detail["items"]:
        expected = (catalog.regular_prices[item["sku"]] * Decimal("0.75")).quantize(Decimal("0.01"))
        assert item["promo_price"] == {"amount": str(expected), "currency": "EUR"}
    revised_events = [
        e
        for e in _events(client, auth, promotion["id"])
        if e["type"].endswith(".promotion.revised")
    ]
    assert revised_events[-1]["data"]["changed"] == ["discount_percent"]


def test_a_new_mechanic_replaces_the_old_terms_and_scope_is_replaced_whole(
    client: TestClient, auth: Auth, promotion_body: dict[str, Any], catalog: Catalog
) -> None:
    promotion = _create(client, auth, _window(promotion_body, 301))
    changes = {
        "mechanic": "amount_off",
        "discount_amount": 0.5,
        "items": [catalog.skus[2]],
        "locations": catalog.stores[:1],
    }
    revised = _revise(client, auth, promotion["id"], changes, "merchandiser")
    assert revised.status_code == 201, revised.text
    detail = _detail(client, auth, promotion["id"])
    assert detail["discount_percent"] is None
    assert detail["discount_amount"] == {"amount": "0.50", "currency": "EUR"}
    assert [item["sku"] for item in detail["items"]] == [catalog.skus[2]]
    assert [loc["code"] for loc in detail["locations"]] == catalog.stores[:1]


def test_a_refused_change_names_the_field_and_writes_nothing(
    client: TestClient, auth: Auth, promotion_body: dict[str, Any]
) -> None:
    promotion = _create(client, auth, _window(promotion_body, 302))
    before = _detail(client, auth, promotion["id"])
    cases = [
        ({"items": ["NO-SUCH-SKU"]}, "items[0]"),
        ({"mechanic": "fixed_price"}, "body"),  # the mechanic's own term is missing
        ({"discount_percent": 120}, "discount_percent"),
        ({"code": "RENAMED"}, "code"),  # a code never changes
        ({"end_date": "2001-01-01"}, "body"),  # before the start date
    ]
    for changes, field in cases:
        refused = _revise(client, auth, promotion["id"], changes, "merchandiser")
        assert refused.status_code == 422, (changes, refused.text)
        assert refused.headers["content-type"] == "application/problem+json"
        assert refused.json()["errors"][0]["field"] == field, (changes, refused.json())
    assert _detail(client, auth, promotion["id"]) == before


def test_only_a_draft_or_a_rejected_promotion_can_be_revised(
    client: TestClient, auth: Auth, promotion_body: dict[str, Any]
) -> None:
    promotion = _create(client, auth, _window(promotion_body, 303))
    cancelled = client.post(
        f"/api/v1/promotions/{promotion['id']}/cancel",
        json={"reason": "not this one"},
        headers=auth("merchandiser"),
    )
    assert cancelled.status_code == 202, cancelled.text
    refused = _revise(client, auth, promotion["id"], {"name": "again"}, "merchandiser")
    assert refused.status_code == 409
    assert refused.headers["content-type"] == "application/problem+json"
    assert "is cancelled" in refused.json()["detail"]


def test_only_the_requester_or_an_admin_revises(
    client: TestClient, auth: Auth, promotion_body: dict[str, Any]
) -> None:
    promotion = _create(client, auth, _window(promotion_body, 304))
    assert _revise(client, auth, promotion["id"], {"name": "x"}, "auditor").status_code == 403
    other = _revise(client, auth, promotion["id"], {"name": "x"}, "integration_client")
    assert other.status_code == 403 and "may revise it" in other.json()["detail"]
    admin = _revise(client, auth, promotion["id"], {"name": "Renamed"}, "operations_admin")
    assert admin.status_code == 201, admin.text
    assert admin.json()["name"] == "Renamed"


def test_a_rejected_promotion_is_revised_into_a_new_revision_and_resubmitted(
    client: TestClient, auth: Auth, promotion_body: dict[str, Any], catalog: Catalog
) -> None:
    """Validation rejects a restricted item; revision 2 drops it and goes through."""
    restricted = _restricted_sku()
    promotion = _create(client, auth, {**_window(promotion_body, 305), "items": [restricted]})
    url = f"/api/v1/promotions/{promotion['id']}"
    assert client.post(f"{url}/submit", headers=auth("merchandiser")).status_code == 202
    assert _wait_for(client, auth, promotion["id"], lambda s: s == "rejected") == "rejected"

    revised = _revise(client, auth, promotion["id"], {"items": [catalog.skus[0]]}, "merchandiser")
    assert revised.status_code == 201, revised.text
    body = revised.json()
    assert (body["status"], body["revision"], body["workflow_id"]) == ("draft", 2, None)
    assert client.get(f"{url}/findings", headers=auth("auditor")).json()["total"] == 0

    submitted = client.post(f"{url}/submit", headers=auth("merchandiser"))
    assert submitted.status_code == 202, submitted.text
    assert submitted.json()["workflow_id"] == f"promotion-{promotion['id']}-rev-2"
    status = _wait_for(client, auth, promotion["id"], lambda s: s not in ("draft", "submitted"))
    assert status != "rejected", client.get(f"{url}/findings", headers=auth("auditor")).text
    cancel = client.post(
        f"{url}/cancel", json={"reason": "test over"}, headers=auth("operations_admin")
    )
    assert cancel.status_code == 202, cancel.text
    _wait_for(client, auth, promotion["id"], lambda s: s == "cancelled")


def _restricted_sku() -> str:
    from promoflow.catalog.models import Item
    from promoflow.runtime import get_runtime

    with get_runtime().sessions() as session:
        return str(
            session.scalar(
                sa.select(Item.sku).where(Item.restricted.is_(True)).order_by(Item.id).limit(1)
            )
        )

"""Creating and reading promotions; bad input is refused whole, naming field and value."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import pytest
from fastapi.testclient import TestClient

if TYPE_CHECKING:
    from tests.api.conftest import Catalog

PROBLEM = "application/problem+json"
Auth = Callable[[str], dict[str, str]]


def test_create_returns_201_with_location(
    client: TestClient, auth: Auth, promotion_body: dict[str, Any], catalog: Catalog
) -> None:
    response = client.post(
        "/api/v1/promotions", json=promotion_body, headers=auth("integration_client")
    )
    assert response.status_code == 201, response.text
    created = response.json()
    assert created["status"] == "draft"
    assert created["revision"] == 1
    assert created["requested_by"] == "integration_client-tester"
    assert response.headers["Location"] == f"/api/v1/promotions/{created['id']}"

    detail = client.get(response.headers["Location"], headers=auth("auditor")).json()
    assert detail["code"] == created["code"]
    assert [item["sku"] for item in detail["items"]] == catalog.skus[:2]
    sku = catalog.skus[0]
    expected = (catalog.regular_prices[sku] * Decimal("0.9")).quantize(Decimal("0.01"))
    assert detail["items"][0]["promo_price"] == {"amount": str(expected), "currency": "EUR"}
    assert sorted(loc["code"] for loc in detail["locations"]) == sorted(catalog.stores)
    assert detail["workflow_id"] is None

    by_code = client.get(f"/api/v1/promotions/{created['code']}", headers=auth("auditor"))
    assert by_code.json()["id"] == created["id"]


def test_identity_comes_from_the_key_not_the_body(
    client: TestClient, auth: Auth, promotion_body: dict[str, Any]
) -> None:
    body = {**promotion_body, "requested_by": "someone-else"}
    response = client.post("/api/v1/promotions", json=body, headers=auth("merchandiser"))
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "requested_by"


def _bad(changes: dict[str, Any], catalog: Catalog) -> dict[str, Any]:
    return {key: (value(catalog) if callable(value) else value) for key, value in changes.items()}


_SOON = date.today() + timedelta(days=60)
BAD_INPUT = [
    pytest.param({"items": ["NO-SUCH-SKU"]}, "items[0]", "NO-SUCH-SKU", id="unknown-sku"),
    pytest.param(
        {"locations": lambda c: [c.stores[0], "NO-SUCH-STORE"]},
        "locations[1]",
        "NO-SUCH-STORE",
        id="unknown-location",
    ),
    pytest.param(
        {"start_date": _SOON.isoformat(), "end_date": (_SOON - timedelta(days=9)).isoformat()},
        "end_date",
        (_SOON - timedelta(days=9)).isoformat(),
        id="end-before-start",
    ),
    pytest.param({"discount_percent": 150}, "discount_percent", 150, id="discount-over-100"),
    pytest.param(
        {"mechanic": "fixed_price", "fixed_price": -1.5, "discount_percent": None},
        "fixed_price",
        -1.5,
        id="negative-fixed-price",
    ),
    pytest.param(
        {"mechanic": "fixed_price", "fixed_price": "abc", "discount_percent": None},
        "fixed_price",
        "abc",
        id="non-numeric-price",
    ),
]


@pytest.mark.parametrize(("changes", "field", "value"), BAD_INPUT)
def test_bad_input_is_422_naming_field_and_value_and_writes_nothing(
    client: TestClient,
    auth: Auth,
    catalog: Catalog,
    promotion_body: dict[str, Any],
    promotion_rows: Callable[[], dict[str, int]],
    changes: dict[str, Any],
    field: str,
    value: Any,
) -> None:
    before = promotion_rows()
    body = {**promotion_body, **_bad(changes, catalog)}
    response = client.post("/api/v1/promotions", json=body, headers=auth("merchandiser"))

    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == PROBLEM
    problem = response.json()
    assert problem["status"] == 422
    assert problem["type"] == "urn:promoflow:problem:invalid-input"
    assert {"field": field, "value": value} == {
        key: problem["errors"][0][key] for key in ("field", "value")
    }
    assert problem["errors"][0]["message"]
    assert field in problem["detail"]
    assert promotion_rows() == before


def test_refusal_after_the_first_write_rolls_back(
    client: TestClient,
    auth: Auth,
    catalog: Catalog,
    promotion_body: dict[str, Any],
    promotion_rows: Callable[[], dict[str, int]],
) -> None:
    # The promotion row is flushed before item prices are checked; the whole
    # transaction must still roll back.
    too_much = max(catalog.regular_prices[sku] for sku in promotion_body["items"]) + 1
    body = {
        **promotion_body,
        "mechanic": "amount_off",
        "discount_percent": None,
        "discount_amount": str(too_much),
    }
    before = promotion_rows()
    response = client.post("/api/v1/promotions", json=body, headers=auth("merchandiser"))
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["field"] == "discount_amount"
    assert promotion_rows() == before


def test_unknown_promotion_is_404_problem(client: TestClient, auth: Auth) -> None:
    for path in ("/api/v1/promotions/NOPE-404", "/api/v1/promotions/999999/gates"):
        response = client.get(path, headers=auth("auditor"))
        assert response.status_code == 404, path
        assert response.headers["content-type"] == PROBLEM
        assert response.json()["type"] == "urn:promoflow:problem:not-found"


def test_unknown_promotion_write_is_404(client: TestClient, auth: Auth) -> None:
    response = client.post(
        "/api/v1/promotions/999999/cancel", json={"reason": "x"}, headers=auth("merchandiser")
    )
    assert response.status_code == 404


def test_list_filters_and_paginates(
    client: TestClient, auth: Auth, promotion_body: dict[str, Any]
) -> None:
    for _ in range(2):
        assert client.post(
            "/api/v1/promotions", json=promotion_body, headers=auth("merchandiser")
        ).is_success
    first = client.get("/api/v1/promotions?status=draft&limit=1", headers=auth("auditor")).json()
    page = client.get(
        "/api/v1/promotions",
        params={"status": "draft", "limit": 1, "cursor": first["next_cursor"]},
        headers=auth("auditor"),
    )
    assert page.status_code == 200
    body = page.json()
    assert body["limit"] == 1
    assert body["total"] >= 2
    assert len(body["items"]) == 1
    assert body["items"][0]["status"] == "draft"
    assert body["items"][0]["id"] > first["items"][0]["id"]


@pytest.mark.parametrize(
    ("query", "field", "value"),
    [("status=nonsense", "status", "nonsense"), ("limit=501", "limit", "501")],
)
def test_bad_list_query_is_422(
    client: TestClient, auth: Auth, query: str, field: str, value: str
) -> None:
    response = client.get(f"/api/v1/promotions?{query}", headers=auth("auditor"))
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == field
    assert response.json()["errors"][0]["value"] == value


def test_cancel_a_draft(client: TestClient, auth: Auth, promotion_body: dict[str, Any]) -> None:
    created = client.post(
        "/api/v1/promotions", json=promotion_body, headers=auth("merchandiser")
    ).json()
    path = f"/api/v1/promotions/{created['id']}/cancel"
    blank = client.post(path, json={"reason": "  "}, headers=auth("merchandiser"))
    assert blank.status_code == 422
    assert blank.json()["errors"][0]["field"] == "reason"
    response = client.post(path, json={"reason": "supplier withdrew"}, headers=auth("merchandiser"))
    assert response.status_code == 202
    assert response.json()["status"] == "cancelled"
    again = client.post(path, json={"reason": "twice"}, headers=auth("merchandiser"))
    assert again.status_code == 409


def test_only_its_requester_or_operations_admin_cancels_a_draft(
    client: TestClient, auth: Auth, promotion_body: dict[str, Any]
) -> None:
    created = client.post(
        "/api/v1/promotions", json=promotion_body, headers=auth("merchandiser")
    ).json()
    path = f"/api/v1/promotions/{created['id']}/cancel"
    # Another author (the integration client) may create drafts, but not cancel this one.
    other = client.post(path, json={"reason": "tidying up"}, headers=auth("integration_client"))
    assert other.status_code == 403, other.text
    assert other.headers["content-type"] == PROBLEM
    assert "draft of merchandiser-tester" in other.json()["detail"]
    detail = client.get(f"/api/v1/promotions/{created['id']}", headers=auth("auditor")).json()
    assert detail["status"] == "draft"
    admin = client.post(path, json={"reason": "range review"}, headers=auth("operations_admin"))
    assert admin.status_code == 202, admin.text
    assert admin.json()["status"] == "cancelled"

"""Write bodies mean one thing: no duplicate keys, no lax coercions (issue 10, defect 11).

`"discount_percent": 20, "discount_percent": 99` used to make a 99 % promotion
(the last key won); `"yes"` was read as true; 1e308 was accepted as a vendor
funding and as a connection's page size; NUL and control characters were
stored as sent (and PostgreSQL refuses NUL).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

Auth = Callable[[str], dict[str, str]]
PROBLEM = "application/problem+json"


def _error(response: Any) -> dict[str, Any]:
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == PROBLEM
    return dict(response.json()["errors"][0])


def test_a_key_given_twice_is_refused_naming_the_key(
    client: TestClient,
    auth: Auth,
    promotion_body: dict[str, Any],
    promotion_rows: Callable[[], dict[str, int]],
) -> None:
    before = promotion_rows()
    text = json.dumps({**promotion_body, "discount_percent": 20})
    text = text[:-1] + ', "discount_percent": 99}'
    response = client.post(
        "/api/v1/promotions",
        content=text.encode(),
        headers={**auth("merchandiser"), "Content-Type": "application/json"},
    )
    error = _error(response)
    assert error["field"] == "discount_percent"
    assert "twice" in error["message"]
    assert promotion_rows() == before


def test_a_nested_key_given_twice_is_refused_too(client: TestClient, auth: Auth) -> None:
    text = (
        '{"name": "dup-feed", "connector": "flatfile", "serves": ["inventory"],'
        ' "config": {"root": "/tmp/a", "root": "/tmp/b"}}'
    )
    response = client.post(
        "/api/v1/connections",
        content=text.encode(),
        headers={**auth("operations_admin"), "Content-Type": "application/json"},
    )
    assert _error(response)["field"] == "root"


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"display_support": "yes"}, "display_support"),
        ({"feature_support": 1}, "feature_support"),
        ({"discount_percent": "20"}, "discount_percent"),
        ({"vendor_funding_per_unit": 1e308}, "vendor_funding_per_unit"),
        ({"vendor_funding_per_unit": True}, "vendor_funding_per_unit"),
        ({"mechanic": "multi_buy", "buy_quantity": "2", "get_quantity": 1}, "buy_quantity"),
        ({"mechanic": "multi_buy", "buy_quantity": 2.0, "get_quantity": 1}, "buy_quantity"),
        ({"start_date": 1_900_000_000}, "start_date"),
        ({"name": "Spring\x00sale"}, "name"),
        ({"name": "Spring\x07sale"}, "name"),
        ({"name": "Spring\nsale"}, "name"),
        ({"description": "bell\x07"}, "description"),
        ({"items": ["SKU\x00"]}, "items[0]"),
    ],
)
def test_lax_values_are_refused_naming_field_and_value(
    client: TestClient,
    auth: Auth,
    promotion_body: dict[str, Any],
    promotion_rows: Callable[[], dict[str, int]],
    changes: dict[str, Any],
    field: str,
) -> None:
    before = promotion_rows()
    response = client.post(
        "/api/v1/promotions", json={**promotion_body, **changes}, headers=auth("merchandiser")
    )
    error = _error(response)
    assert error["field"] == field
    assert promotion_rows() == before


def test_a_multi_line_description_is_still_fine(
    client: TestClient, auth: Auth, promotion_body: dict[str, Any]
) -> None:
    body = {**promotion_body, "description": "Endcap in aisle 4\n\tand a shelf talker."}
    response = client.post("/api/v1/promotions", json=body, headers=auth("merchandiser"))
    assert response.status_code == 201, response.text


@pytest.mark.parametrize(
    ("config", "field"),
    [
        ({"root": "/tmp/feed", "page_size": 1e308}, "config.page_size"),
        ({"root": "/tmp/feed\x00"}, "config.root"),
        ({"root": ["/tmp/feed"]}, "config.root"),
    ],
)
def test_connection_settings_are_bounded(
    client: TestClient, auth: Auth, config: dict[str, Any], field: str
) -> None:
    body = {"name": "bounded-feed", "connector": "flatfile", "serves": ["inventory"]}
    response = client.post(
        "/api/v1/connections", json={**body, "config": config}, headers=auth("operations_admin")
    )
    assert _error(response)["field"] == field
    missing = client.get("/api/v1/connections/bounded-feed", headers=auth("auditor"))
    assert missing.status_code == 404

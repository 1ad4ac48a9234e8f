"""API keys, roles and the unauthenticated probes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from promoflow.config import Settings

PROBLEM = "application/problem+json"


def test_missing_key_is_401_problem(client: TestClient) -> None:
    response = client.get("/api/v1/promotions")
    assert response.status_code == 401
    assert response.headers["content-type"] == PROBLEM
    body = response.json()
    assert body["status"] == 401
    assert body["title"] == "Unauthenticated"
    assert "X-API-Key" in body["detail"]
    assert "WWW-Authenticate" in response.headers


def test_wrong_key_is_401_and_not_echoed(client: TestClient) -> None:
    response = client.get("/api/v1/promotions", headers={"X-API-Key": "guess-me-secret"})
    assert response.status_code == 401
    assert response.headers["content-type"] == PROBLEM
    assert "guess-me-secret" not in response.text


def test_every_v1_route_requires_a_key(client: TestClient) -> None:
    paths = [
        ("post", "/api/v1/promotions"),
        ("get", "/api/v1/promotions/1/gates"),
        ("post", "/api/v1/approvals/1/decision"),
        ("post", "/api/v1/exceptions/1/actions"),
        ("post", "/api/v1/promotions/1/store-tasks/confirm"),
    ]
    for method, path in paths:
        assert client.request(method, path, json={}).status_code == 401, path


def test_forbidden_role_cannot_create_and_nothing_is_written(
    client: TestClient,
    auth: Callable[[str], dict[str, str]],
    promotion_body: dict[str, Any],
    promotion_rows: Callable[[], dict[str, int]],
) -> None:
    before = promotion_rows()
    response = client.post("/api/v1/promotions", json=promotion_body, headers=auth("auditor"))
    assert response.status_code == 403
    assert response.headers["content-type"] == PROBLEM
    assert "auditor" in response.json()["detail"]
    assert promotion_rows() == before


def test_store_tasks_need_store_operations(
    client: TestClient, auth: Callable[[str], dict[str, str]]
) -> None:
    response = client.post(
        "/api/v1/promotions/1/store-tasks/confirm",
        json={"location_codes": None},
        headers=auth("finance_approver"),
    )
    assert response.status_code == 403
    assert "store_operations" in response.json()["detail"]


def test_auditor_may_read(client: TestClient, auth: Callable[[str], dict[str, str]]) -> None:
    response = client.get("/api/v1/promotions", headers=auth("auditor"))
    assert response.status_code == 200
    assert set(response.json()) == {"items", "total", "limit", "next_cursor"}


def test_probes_need_no_key(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["database"] == "ok"


def test_openapi_documents_the_key_and_version(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    assert spec["openapi"].startswith("3.1")
    assert spec["info"]["title"] == "promoflow"
    schemes = spec["components"]["securitySchemes"]
    assert any(s.get("name") == "X-API-Key" and s.get("in") == "header" for s in schemes.values())
    assert "/api/v1/promotions/{ref}/gates" in spec["paths"]


@pytest.mark.parametrize(
    ("entry", "complaint"),
    [
        ("k1:alice:wizard", "role 'wizard' is not one of"),
        ("k1:alice", "expected 'key:actor:role'"),
        ("k1::merchandiser", "expected 'key:actor:role'"),
        ("k1:alice:merchandiser,k1:bob:auditor", "the same key is listed twice"),
    ],
)
def test_bad_api_key_setting_stops_startup(
    test_settings: Settings, entry: str, complaint: str
) -> None:
    from promoflow.app import create_app

    settings = test_settings.model_copy(update={"api_keys": entry})
    with pytest.raises(ValueError, match="PROMOFLOW_API_KEYS entry") as refused:
        create_app(settings, manage_runtime=False)
    assert complaint in str(refused.value)
    assert "k1" not in str(refused.value)

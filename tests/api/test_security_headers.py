"""What a browser is told about every answer, and what production keeps to itself."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

from promoflow.config import Settings

Auth = Callable[[str], dict[str, str]]


@pytest.mark.parametrize(
    ("path", "credential"),
    [("/healthz", False), ("/api/v1/promotions", True), ("/api/v1/promotions", False)],
)
def test_every_answer_carries_the_browser_protections(
    client: TestClient, auth: Auth, path: str, credential: bool
) -> None:
    response = client.get(path, headers=auth("auditor") if credential else {})
    assert response.status_code in (200, 401)
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["referrer-policy"] == "no-referrer"
    assert (
        response.headers["content-security-policy"] == "default-src 'none'; frame-ancestors 'none'"
    )
    assert "strict-transport-security" not in response.headers  # development


def test_production_hides_the_docs_and_asks_for_https(api_settings: Settings) -> None:
    from promoflow.app import create_app

    settings = api_settings.model_copy(update={"environment": "production", "api_keys": ""})
    with TestClient(create_app(settings, manage_runtime=False)) as client:
        for path in ("/docs", "/redoc", "/openapi.json"):
            assert client.get(path).status_code == 404, path
        health = client.get("/healthz")
        assert health.headers["strict-transport-security"].startswith("max-age=")
    shown = settings.model_copy(update={"api_docs": True})
    with TestClient(create_app(shown, manage_runtime=False)) as client:
        assert client.get("/openapi.json").status_code == 200


def test_development_serves_the_docs(client: TestClient) -> None:
    docs = client.get("/docs")
    assert docs.status_code == 200
    assert "content-security-policy" not in docs.headers  # Swagger UI is HTML with scripts
    assert client.get("/openapi.json").status_code == 200

"""Errors nobody planned for still come back as problem details, without internals."""

from __future__ import annotations

from fastapi.testclient import TestClient

from promoflow.config import Settings


def test_unexpected_error_is_a_bare_500_problem(test_settings: Settings) -> None:
    from promoflow.app import create_app

    app = create_app(test_settings, manage_runtime=False)

    @app.get("/boom")
    def boom() -> None:
        raise RuntimeError("password=hunter2 at /srv/secret.py line 3")

    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.get("/boom")
    assert response.status_code == 500
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["title"] == "Internal error"
    assert "hunter2" not in response.text
    assert "Traceback" not in response.text


def test_unknown_route_is_a_problem(test_settings: Settings) -> None:
    from promoflow.app import create_app

    with TestClient(create_app(test_settings, manage_runtime=False)) as client:
        response = client.get("/no/such/route")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"

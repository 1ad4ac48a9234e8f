"""Sizes are bounded: bodies, text fields and what a refusal echoes (issue 10, defect 9).

A 10 MB description used to be stored, no body was too large, and a 422 echoed
the refused value twice (a 10 MB name gave a 20 MB answer).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from promoflow.config import Settings

Auth = Callable[[str], dict[str, str]]
PROBLEM = "application/problem+json"
LIMIT = 64 * 1024


@pytest.fixture
def small_limit_client(api_settings: Settings, catalog: object) -> Iterator[TestClient]:
    """The API with a 64 KiB body limit, on the running test runtime."""
    from promoflow.app import create_app

    settings = api_settings.model_copy(update={"max_request_bytes": LIMIT})
    with TestClient(create_app(settings, manage_runtime=False)) as test_client:
        yield test_client


def _too_large(response: Any) -> None:
    assert response.status_code == 413, response.text[:300]
    assert response.headers["content-type"] == PROBLEM
    assert str(LIMIT) in response.json()["detail"]


def test_a_body_over_the_limit_is_413_and_writes_nothing(
    small_limit_client: TestClient,
    auth: Auth,
    promotion_body: dict[str, Any],
    promotion_rows: Callable[[], dict[str, int]],
) -> None:
    before = promotion_rows()
    body = {**promotion_body, "description": "x" * (LIMIT + 1)}
    response = small_limit_client.post(
        "/api/v1/promotions", json=body, headers=auth("merchandiser")
    )
    _too_large(response)
    assert promotion_rows() == before


def test_a_streamed_body_without_length_is_counted_too(
    small_limit_client: TestClient, auth: Auth
) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"reason": "'
        for _ in range(LIMIT // 1024 + 1):
            yield b"y" * 1024
        yield b'"}'

    response = small_limit_client.post(
        "/api/v1/promotions/1/cancel",
        content=chunks(),
        headers={**auth("merchandiser"), "Content-Type": "application/json"},
    )
    assert "content-length" not in {key.lower() for key in response.request.headers}
    _too_large(response)


def test_a_body_under_the_limit_is_read_as_before(
    small_limit_client: TestClient, auth: Auth, promotion_body: dict[str, Any]
) -> None:
    response = small_limit_client.post(
        "/api/v1/promotions", json=promotion_body, headers=auth("merchandiser")
    )
    assert response.status_code == 201, response.text


@pytest.mark.parametrize(
    ("field", "length"),
    [("description", 4001), ("name", 201), ("code", 41), ("items", 33)],
)
def test_every_text_field_is_capped(
    client: TestClient,
    auth: Auth,
    promotion_body: dict[str, Any],
    promotion_rows: Callable[[], dict[str, int]],
    field: str,
    length: int,
) -> None:
    before = promotion_rows()
    value = "A" * length
    body = {**promotion_body, field: [value] if field == "items" else value}
    response = client.post("/api/v1/promotions", json=body, headers=auth("merchandiser"))

    assert response.status_code == 422, response.text[:300]
    error = response.json()["errors"][0]
    assert error["field"] == ("items[0]" if field == "items" else field)
    assert promotion_rows() == before


def test_a_refusal_echoes_a_short_prefix_of_the_value_once(
    client: TestClient, auth: Auth, promotion_body: dict[str, Any]
) -> None:
    name = "N" * 500_000
    body = {**promotion_body, "name": name}
    response = client.post("/api/v1/promotions", json=body, headers=auth("merchandiser"))

    assert response.status_code == 422
    assert len(response.content) < 2_000
    problem = response.json()
    error = problem["errors"][0]
    assert error["field"] == "name"
    assert error["value"] == "N" * 80 + "…"
    assert response.text.count("N" * 80) == 1

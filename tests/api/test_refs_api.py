"""A promotion ref names one promotion: an id in ASCII digits, or a code (issue 10, defect 7).

A code of "2" used to shadow promotion id 2 on every `/promotions/{ref}` route
(read, submit, cancel, waive). Codes can no longer be all digits, and a ref in
digits is only ever an id.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

Auth = Callable[[str], dict[str, str]]


@pytest.mark.parametrize("code", ["2", "007", "²", "٣"])
def test_an_all_digit_code_is_refused_at_create(
    client: TestClient,
    auth: Auth,
    promotion_body: dict[str, Any],
    promotion_rows: Callable[[], dict[str, int]],
    code: str,
) -> None:
    before = promotion_rows()
    body = {**promotion_body, "code": code}
    response = client.post("/api/v1/promotions", json=body, headers=auth("merchandiser"))

    assert response.status_code == 422, response.text
    error = response.json()["errors"][0]
    assert (error["field"], error["value"]) == ("code", code)
    assert promotion_rows() == before


def test_a_digit_ref_reads_the_id_even_when_a_code_says_those_digits(
    client: TestClient, auth: Auth, promotion_body: dict[str, Any]
) -> None:
    """Rows written before the rule (a code of digits) cannot hijack an id either."""
    from promoflow.kit.db import transaction
    from promoflow.promotions.models import Promotion
    from promoflow.runtime import get_runtime

    first = client.post("/api/v1/promotions", json=promotion_body, headers=auth("merchandiser"))
    legacy = client.post("/api/v1/promotions", json=promotion_body, headers=auth("merchandiser"))
    first_id, legacy_id = first.json()["id"], legacy.json()["id"]
    with transaction(get_runtime().sessions) as session:
        row = session.get(Promotion, legacy_id)
        assert row is not None
        row.code = str(first_id)

    read = client.get(f"/api/v1/promotions/{first_id}", headers=auth("auditor"))
    assert read.status_code == 200
    assert read.json()["id"] == first_id

    cancelled = client.post(
        f"/api/v1/promotions/{first_id}/cancel",
        json={"reason": "cancel the first, by id"},
        headers=auth("merchandiser"),
    )
    assert cancelled.status_code == 202, cancelled.text
    assert cancelled.json()["id"] == first_id
    untouched = client.get(f"/api/v1/promotions/{legacy_id}", headers=auth("auditor"))
    assert untouched.json()["status"] == "draft"


def test_a_code_still_reads_its_promotion(
    client: TestClient, auth: Auth, promotion_body: dict[str, Any]
) -> None:
    body = {**promotion_body, "code": "SPRING-2"}
    created = client.post("/api/v1/promotions", json=body, headers=auth("merchandiser"))
    assert created.status_code == 201, created.text

    read = client.get("/api/v1/promotions/SPRING-2", headers=auth("auditor"))
    assert read.status_code == 200
    assert read.json()["id"] == created.json()["id"]

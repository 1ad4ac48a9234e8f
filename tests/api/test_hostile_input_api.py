"""Hostile input gets a 4xx naming the field, never a 500 (issue 10, defect 8).

Each case below was a 500 found by the fuzzer: ids and offsets past 2^63, a ref
of superscript digits, 1e308 as an amount, NaN/Infinity/1e400 as a number, a
lone surrogate in a string, an end date in year 9999 (accepted, then submit
failed), a launch lead of 1e8 hours. Every field now has a bound a retailer
would recognise, and out of bounds is a 422 that names the field and the value.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

Auth = Callable[[str], dict[str, str]]
PROBLEM = "application/problem+json"
PAST_INT64 = str(2**63)
PAST_INT32 = str(2**31)  # past the INTEGER id columns: PostgreSQL refused the lookup itself


def _refused(response: Any, field: str) -> dict[str, Any]:
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == PROBLEM
    errors = response.json()["errors"]
    assert field in [error["field"] for error in errors], errors
    return dict(next(error for error in errors if error["field"] == field))


@pytest.mark.parametrize(
    ("method", "path", "field"),
    [
        ("GET", f"/api/v1/exceptions/{PAST_INT64}", "case_id"),
        ("GET", f"/api/v1/dead-letters/{PAST_INT64}", "letter_id"),
        ("GET", f"/api/v1/recommendations/{PAST_INT64}", "recommendation_id"),
        ("POST", f"/api/v1/approvals/{PAST_INT64}/decision", "task_id"),
        ("GET", f"/api/v1/promotions?limit={PAST_INT64}", "limit"),
        ("GET", f"/api/v1/exceptions?promotion_id={PAST_INT64}", "promotion_id"),
        ("GET", f"/api/v1/promotions/1/recommendations?revision={PAST_INT64}", "revision"),
        ("GET", f"/api/v1/exceptions/{PAST_INT32}", "case_id"),
        ("POST", f"/api/v1/dead-letters/{PAST_INT32}/replay", "letter_id"),
        ("GET", f"/api/v1/exceptions?promotion_id={PAST_INT32}", "promotion_id"),
    ],
)
def test_numbers_past_the_database_range_are_422(
    client: TestClient, auth: Auth, method: str, path: str, field: str
) -> None:
    body = {"decision": "approve"} if "decision" in path else None
    response = client.request(method, path, json=body, headers=auth("operations_admin"))
    assert _refused(response, field)["value"] in (PAST_INT64, PAST_INT32)


@pytest.mark.parametrize("ref", ["¹", "²³", "٣", "%00", "%07", PAST_INT64, PAST_INT32, "a b"])
def test_a_ref_that_names_nothing_is_404(client: TestClient, auth: Auth, ref: str) -> None:
    response = client.get(f"/api/v1/promotions/{ref}", headers=auth("auditor"))
    assert response.status_code == 404, response.text
    assert response.headers["content-type"] == PROBLEM


@pytest.mark.parametrize(
    ("raw", "field", "value"),
    [
        ('"discount_percent": NaN', "discount_percent", "NaN"),
        ('"discount_percent": Infinity', "discount_percent", "Infinity"),
        ('"discount_percent": -Infinity', "discount_percent", "-Infinity"),
        ('"discount_percent": 1e400', "discount_percent", "1e400"),
        ('"name": "\\ud800 lone surrogate"', "name", "\ufffd lone surrogate"),
    ],
)
def test_numbers_and_text_json_cannot_hold_are_422(
    client: TestClient,
    auth: Auth,
    promotion_body: dict[str, Any],
    promotion_rows: Callable[[], dict[str, int]],
    raw: str,
    field: str,
    value: str,
) -> None:
    """The 422 handler used to crash on these itself (NaN is not JSON, a surrogate not UTF-8)."""
    before = promotion_rows()
    rest = json.dumps({key: item for key, item in promotion_body.items() if key != field})
    response = client.post(
        "/api/v1/promotions",
        content=("{" + raw + ", " + rest[1:]).encode(),
        headers={**auth("merchandiser"), "Content-Type": "application/json"},
    )
    assert _refused(response, field)["value"] == value
    assert promotion_rows() == before


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"mechanic": "amount_off", "discount_amount": 1e308}, "discount_amount"),
        ({"end_date": "9999-12-31"}, "end_date"),
        ({"start_date": "1999-12-31"}, "start_date"),
        ({"vendor_funding_per_unit": 1e308}, "vendor_funding_per_unit"),
        ({"discount_percent": 10.005}, "discount_percent"),
        ({"mechanic": "multi_buy", "buy_quantity": 2**70, "get_quantity": 1}, "buy_quantity"),
    ],
)  # fmt: skip
def test_amounts_and_dates_out_of_bounds_are_422(
    client: TestClient,
    auth: Auth,
    promotion_body: dict[str, Any],
    promotion_rows: Callable[[], dict[str, int]],
    changes: dict[str, Any],
    field: str,
) -> None:
    before = promotion_rows()
    body = {**promotion_body, **changes}
    response = client.post("/api/v1/promotions", json=body, headers=auth("merchandiser"))
    error = _refused(response, field)
    assert error["value"] is not None
    assert promotion_rows() == before


@pytest.mark.parametrize(
    "timing", [{"launch_lead_hours": 1e8}, {"live_hours": 1e8}, {"launch_lead_hours": -1}]
)
def test_a_submission_timing_out_of_bounds_is_422_and_starts_nothing(
    client: TestClient, auth: Auth, promotion_body: dict[str, Any], timing: dict[str, float]
) -> None:
    created = client.post("/api/v1/promotions", json=promotion_body, headers=auth("merchandiser"))
    ref = created.json()["id"]
    response = client.post(
        f"/api/v1/promotions/{ref}/submit", json=timing, headers=auth("merchandiser")
    )
    _refused(response, next(iter(timing)))
    after = client.get(f"/api/v1/promotions/{ref}", headers=auth("auditor")).json()
    assert after["status"] == "draft"
    assert after["workflow_id"] is None

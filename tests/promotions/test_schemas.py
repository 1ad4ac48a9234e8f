"""The bounds of a promotion request, as the API, the CLI and the scenario build it (issue 10).

These run without a database: PromotionCreate alone decides. A retailer would
recognise each bound: amounts up to a million in whole cents, percentages up to
100, dates from 2000 to two years ahead, a promotion of at most a year, text that
fits its column and holds no control character, and codes that never read as ids.
"""

from __future__ import annotations

import json
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from pydantic import ValidationError

from promoflow.promotions.schemas import PromotionCreate

SOON = date.today() + timedelta(days=30)


def _request(**changes: Any) -> dict[str, Any]:
    return {
        "name": "Spring sale",
        "mechanic": "percent_off",
        "discount_percent": 10,
        "start_date": SOON.isoformat(),
        "end_date": (SOON + timedelta(days=6)).isoformat(),
        "channels": ["pos"],
        "items": ["SKU-1"],
        "locations": ["ST-1"],
        **changes,
    }


def _refusal(**changes: Any) -> tuple[str, str]:
    """(field, message) of the first error when the request arrives as JSON."""
    with pytest.raises(ValidationError) as refused:
        PromotionCreate.model_validate_json(json.dumps(_request(**changes)))
    error = refused.value.errors()[0]
    return ".".join(str(part) for part in error["loc"]), error["msg"]


@pytest.mark.parametrize("code", ["2", "0042", "²", "١٢"])
def test_a_code_is_never_all_digits(code: str) -> None:
    field, _ = _refusal(code=code)
    assert field == "code"


def test_an_ascii_all_digit_code_is_told_how_to_fix_it() -> None:
    _, message = _refusal(code="2")
    assert "promotion id" in message and "PRM-2" in message


@pytest.mark.parametrize("code", ["PRM-00042", "SPRING_2", "2.5", "-7"])
def test_codes_with_a_letter_or_mark_are_fine(code: str) -> None:
    assert PromotionCreate.model_validate(_request(code=code)).code == code


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"discount_percent": 100.01}, "discount_percent"),
        ({"discount_percent": 0}, "discount_percent"),
        ({"discount_percent": 12.345}, "discount_percent"),
        ({"mechanic": "amount_off", "discount_amount": 1_000_000.01}, "discount_amount"),
        ({"mechanic": "fixed_price", "fixed_price": -0.01}, "fixed_price"),
        ({"mechanic": "bundle", "bundle_price": 1e308}, "bundle_price"),
        ({"vendor_funding_per_unit": "1"}, "vendor_funding_per_unit"),
        ({"start_date": "1999-12-31"}, "start_date"),
        ({"end_date": (date.today() + timedelta(days=800)).isoformat()}, "end_date"),
        ({"start_date": f"{SOON.isoformat()}T00:00:00"}, "start_date"),
        ({"display_support": "true"}, "display_support"),
        ({"name": " \t "}, "name"),
        ({"name": "x" * 201}, "name"),
        ({"description": "\x1b[31mred"}, "description"),
        ({"items": [f"SKU-{n}" for n in range(5001)]}, "items"),
        ({"channels": ["pos", "ecommerce", "pos"]}, "channels"),
    ],
)
def test_out_of_bounds_is_refused_naming_the_field(changes: dict[str, Any], field: str) -> None:
    assert _refusal(**changes)[0] == field


def test_a_promotion_runs_at_most_a_year() -> None:
    start = date.today()
    field, message = _refusal(
        start_date=start.isoformat(), end_date=(start + timedelta(days=366)).isoformat()
    )
    assert field == "" and "at most 366 days" in message
    year = PromotionCreate.model_validate(
        _request(start_date=start.isoformat(), end_date=(start + timedelta(days=365)).isoformat())
    )
    assert (year.end_date - year.start_date).days == 365


def test_the_scenario_builds_requests_from_python_values() -> None:
    """The storyline passes dates and Decimals, not JSON: they stay accepted."""
    request = PromotionCreate(
        code="DEMO-1",
        name="Demo",
        mechanic="amount_off",
        discount_amount=Decimal("0.35"),
        start_date=SOON,
        end_date=SOON + timedelta(days=6),
        channels=["pos", "ecommerce"],
        items=["SKU-1"],
        regions=["North"],
        display_support=True,
    )
    assert request.discount_amount == Decimal("0.35")
    assert request.vendor_funding_per_unit == Decimal(0)

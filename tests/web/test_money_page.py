"""The console's promotion page writes the result's amounts in the configured currency."""

from __future__ import annotations

from collections.abc import Callable

from api.conftest import Catalog
from money_support import analysed_draft
from web.conftest import Console


def test_the_result_shows_revenue_margin_and_funding_with_the_currency(
    console_for: Callable[[str], Console], catalog: Catalog
) -> None:
    code = analysed_draft("WEB-MONEY-1", weeks_ahead=32)

    page = console_for("auditor").get(f"/promotions/{code}")

    assert page.status_code == 200
    assert "€1,234.50" in page.text
    assert "-€183.44" in page.text
    assert "vendor funding €30.00" in page.text

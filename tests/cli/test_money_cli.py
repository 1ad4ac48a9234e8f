"""The CLI writes every amount with its currency, formatted for PROMOFLOW_LOCALE (issue 13).

Settings come from the environment, as for an operator at a terminal; each test
that changes them clears the cached settings before and after.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from decimal import Decimal

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from money_support import analysed_draft
from promoflow.cli.main import app
from promoflow.config import get_settings
from promoflow.runtime import get_runtime

runner = CliRunner()


@pytest.fixture
def environment(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    """Set PROMOFLOW_ variables for one test; the cached settings follow them."""
    get_settings.cache_clear()
    yield monkeypatch
    monkeypatch.undo()
    get_settings.cache_clear()


def _configure(environment: pytest.MonkeyPatch, **variables: str) -> None:
    for name, value in variables.items():
        environment.setenv(f"PROMOFLOW_{name.upper()}", value)
    get_settings.cache_clear()


def test_serve_stops_on_an_unknown_currency_naming_the_setting(
    environment: pytest.MonkeyPatch,
) -> None:
    _configure(environment, currency="XYZ")

    result = runner.invoke(app, ["serve", "--port", "1"])

    assert result.exit_code == 2
    said = " ".join(result.output.split())  # as one line, whatever the terminal's width
    assert "PROMOFLOW_CURRENCY='XYZ' is not an ISO 4217 currency code" in said


def _an_item() -> tuple[str, Decimal, Decimal]:
    from promoflow.catalog.models import Item

    with get_runtime().sessions() as session:
        sku, cost, price = session.execute(
            sa.select(Item.sku, Item.unit_cost, Item.regular_price).order_by(Item.id).limit(1)
        ).one()
    return sku, Decimal(cost), Decimal(price)


def test_catalog_prices_show_the_configured_currency(
    seeded: object, environment: pytest.MonkeyPatch
) -> None:
    sku, cost, price = _an_item()

    in_euros = runner.invoke(app, ["catalog", "items", "--sku-prefix", sku])
    _configure(environment, currency="USD")
    in_dollars = runner.invoke(app, ["catalog", "items", "--sku-prefix", sku])
    as_json = runner.invoke(app, ["catalog", "items", "--sku-prefix", sku, "--json"])

    assert in_euros.exit_code == 0, in_euros.output
    assert f"€{price:,}" in in_euros.output and f"€{cost:,}" in in_euros.output
    assert f"US${price:,}" in in_dollars.output and "€" not in in_dollars.output
    row = json.loads(as_json.output)["items"][0]
    assert row["regular_price"] == {"amount": str(price), "currency": "USD"}


def test_a_promotion_result_shows_revenue_and_margin_in_the_currency(
    seeded: object, environment: pytest.MonkeyPatch
) -> None:
    code = analysed_draft("CLI-MONEY-1", weeks_ahead=31)

    shown = runner.invoke(app, ["promotions", "show", code])
    report = json.loads(runner.invoke(app, ["promotions", "show", code, "--json"]).output)
    _configure(environment, currency="GBP", locale="de_DE")
    in_german = runner.invoke(app, ["promotions", "show", code])

    assert shown.exit_code == 0, shown.output
    # Token by token: the panel may wrap the line at the terminal's width.
    assert "€1,234.50," in shown.output and "-€183.44" in shown.output
    assert report["analysis"]["margin"] == {"amount": "-183.44", "currency": "EUR"}
    assert report["analysis"]["revenue"] == {"amount": "1234.50", "currency": "EUR"}
    assert report["analysis"]["vendor_funding"] == {"amount": "30.00", "currency": "EUR"}
    assert report["analysis"]["actual_units"] == 120.0  # units stay numbers
    assert "1.234,50\xa0£," in in_german.output and "-183,44\xa0£" in in_german.output

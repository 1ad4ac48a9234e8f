"""Amounts with their currency: minor units, JSON, and formatting for a locale (issue 13)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from pydantic import BaseModel, ConfigDict, ValidationError

from promoflow.kit.money import MoneyAmount, Priced, check_currency, format_money


@pytest.mark.parametrize(
    ("value", "currency", "locale", "written"),
    [
        (Decimal("183.44"), "EUR", "en_GB", "€183.44"),
        (Decimal("1183.4"), "EUR", "de_DE", "1.183,40\xa0€"),
        (Decimal("1183.5"), "JPY", "en_GB", "JP¥1,184"),  # no minor units: rounded half up
        (Decimal("1183.5"), "JPY", "ja_JP", "￥1,184"),
        (Decimal("-42.005"), "EUR", "en_GB", "-€42.01"),  # a loss, rounded half up
        (Decimal("-1234.5"), "USD", "en_US", "-$1,234.50"),
        (7, "GBP", "en_GB", "£7.00"),
    ],
)
def test_amounts_are_written_as_the_locale_writes_them(
    value: Decimal | int, currency: str, locale: str, written: str
) -> None:
    assert format_money(value, currency, locale) == written


@pytest.mark.parametrize(
    ("value", "currency", "amount"),
    [
        (Decimal("183.4"), "EUR", "183.40"),
        (Decimal("183.445"), "EUR", "183.45"),
        (Decimal("183.5"), "JPY", "184"),
        (Decimal("-0.5"), "JPY", "-1"),
        (Decimal("1.2345"), "BHD", "1.235"),  # three minor units
        (Decimal("1E+2"), "EUR", "100.00"),  # never exponent notation
        (-12.1, "USD", "-12.10"),
    ],
)
def test_json_carries_the_amount_as_text_in_the_currency_minor_units(
    value: Decimal | float, currency: str, amount: str
) -> None:
    money = MoneyAmount.of(value, currency)

    assert money.model_dump(mode="json") == {"amount": amount, "currency": currency}
    assert money.model_dump_json() == f'{{"amount":"{amount}","currency":"{currency}"}}'
    assert money.amount == Decimal(amount)


def test_an_amount_formats_itself_with_its_own_currency() -> None:
    assert MoneyAmount.of(Decimal("9.99"), "USD").formatted("en_GB") == "US$9.99"


def test_a_currency_is_three_capital_letters() -> None:
    with pytest.raises(ValidationError, match="currency"):
        MoneyAmount(amount=Decimal(1), currency="euro")


class _Row:
    price = Decimal("2.5")


class _PricedView(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    price: Priced


def test_a_row_number_becomes_an_amount_in_the_currency_given_as_context() -> None:
    view = _PricedView.model_validate(_Row(), context={"currency": "JPY"})

    assert view.price == MoneyAmount(amount=Decimal(3), currency="JPY")


def test_a_row_number_without_a_currency_is_refused_rather_than_guessed() -> None:
    with pytest.raises(ValidationError, match="needs a currency"):
        _PricedView.model_validate(_Row())


@pytest.mark.parametrize("code", ["ABC", "EURO", "", "€"])
def test_an_unknown_currency_is_refused_naming_the_field_and_code(code: str) -> None:
    with pytest.raises(ValueError, match=f"PROMOFLOW_CURRENCY={code!r} is not an ISO 4217"):
        check_currency(code, "PROMOFLOW_CURRENCY")

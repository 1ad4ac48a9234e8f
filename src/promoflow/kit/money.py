"""Amounts of money with their currency: checked codes, minor units, and locale formatting.

A deployment keeps its prices in one currency (PROMOFLOW_CURRENCY). Requests send
plain numbers in it; every answer says which currency a number is in, as
`{"amount": "183.44", "currency": "EUR"}`: the amount is a string, so no client
reads 0.1 + 0.2 into a price, written with the currency's minor units (two for
EUR, none for JPY, three for BHD). People read amounts formatted for their
locale by Babel ("€183.44", "183,44 €", "JP¥184").

Imports nothing of promoflow: callers pass the currency and the locale in.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationInfo,
    field_serializer,
)

CURRENCY_PATTERN = r"^[A-Z]{3}$"
AMOUNT_PATTERN = r"^-?[0-9]+(\.[0-9]+)?$"


@lru_cache(maxsize=1)
def _known_currencies() -> frozenset[str]:
    from babel.numbers import list_currencies  # Babel loads where a code is checked

    return frozenset(list_currencies())


def check_currency(code: str, field: str = "currency") -> str:
    """The ISO 4217 code in capitals; ValueError naming `field` and the code unless Babel
    knows it."""
    upper = code.strip().upper()
    if upper not in _known_currencies():
        raise ValueError(
            f"{field}={code!r} is not an ISO 4217 currency code; use three letters such as "
            "EUR, USD, GBP or JPY"
        )
    return upper


def check_locale(name: str, field: str = "locale") -> str:
    """The locale's canonical name (en_GB); ValueError naming `field` and the name unless
    Babel has its data."""
    from babel import Locale, UnknownLocaleError

    try:
        return str(Locale.parse(name.strip().replace("-", "_")))
    except (UnknownLocaleError, ValueError):
        raise ValueError(
            f"{field}={name!r} is not a locale Babel knows; use a name such as en_GB, "
            "en_US or de_DE"
        ) from None


def minor_units(currency: str) -> int:
    """Digits after the decimal point the currency is written with (EUR 2, JPY 0)."""
    from babel.numbers import get_currency_precision

    return int(get_currency_precision(currency))


def to_minor_units(value: Decimal | int | float | str, currency: str) -> Decimal:
    """The value rounded half up to the currency's minor units (a float through its text)."""
    number = Decimal(str(value)) if isinstance(value, float) else Decimal(value)
    return number.quantize(Decimal(1).scaleb(-minor_units(currency)), rounding=ROUND_HALF_UP)


def format_money(value: Decimal | int | float | str, currency: str, locale: str) -> str:
    """The amount as people of `locale` write it: format_money(183.44, "EUR", "en_GB") = €183.44."""
    from babel.numbers import format_currency

    return str(format_currency(to_minor_units(value, currency), currency, locale=locale))


class MoneyAmount(BaseModel):
    """An amount with its currency, as every answer carries money."""

    model_config = ConfigDict(frozen=True)

    amount: Decimal = Field(
        description="in the currency's minor units, as a string (JSON numbers lose cents)",
        json_schema_extra={"pattern": AMOUNT_PATTERN, "examples": ["183.44"]},
    )
    currency: str = Field(
        pattern=CURRENCY_PATTERN,
        description="ISO 4217 code, the deployment's PROMOFLOW_CURRENCY",
        examples=["EUR"],
    )

    @classmethod
    def of(cls, value: Decimal | int | float | str, currency: str) -> MoneyAmount:
        """The value in `currency`, rounded to its minor units."""
        return cls(amount=to_minor_units(value, currency), currency=currency)

    @field_serializer("amount", when_used="json")
    def _written(self, amount: Decimal) -> str:
        # Fixed-point text with exactly the minor units: "183.40", "184", never "1.834E+2".
        return format(to_minor_units(amount, self.currency), "f")

    def formatted(self, locale: str) -> str:
        """The amount written for `locale`, with its currency's symbol."""
        return format_money(self.amount, self.currency, locale)

    def as_json(self) -> dict[str, str]:
        """{"amount": "183.44", "currency": "EUR"}, for reports written as plain data."""
        return dict(self.model_dump(mode="json"))


def _in_context_currency(value: Any, info: ValidationInfo) -> Any:
    # A number read off a row (from_attributes) becomes an amount in the currency the
    # caller passed as validation context; an amount or its JSON passes as it is.
    if isinstance(value, MoneyAmount | dict) or value is None:
        return value
    currency = (info.context or {}).get("currency")
    if not currency:
        raise ValueError("an amount of money needs a currency: validate with context={'currency'}")
    return MoneyAmount.of(value, currency)


# A MoneyAmount that a model fills from a plain number of a row, given
# `model_validate(row, context={"currency": code})`.
Priced = Annotated[MoneyAmount, BeforeValidator(_in_context_currency)]

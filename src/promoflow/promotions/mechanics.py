"""What a mechanic does to a shelf price: the effective unit price and depth."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Protocol

CENT = Decimal("0.01")


class MechanicTerms(Protocol):
    mechanic: str
    discount_percent: Decimal | None
    discount_amount: Decimal | None
    fixed_price: Decimal | None
    buy_quantity: int | None
    get_quantity: int | None
    bundle_price: Decimal | None


def effective_unit_price(
    terms: MechanicTerms, regular_price: Decimal, bundle_regular_total: Decimal
) -> Decimal:
    """The price a shopper effectively pays per unit under the mechanic.

    Multi-buy "buy N get M free" spreads the free units over all N+M. A bundle
    spreads the bundle price over its items in proportion to their regular prices.
    """
    regular = Decimal(regular_price)
    if terms.mechanic == "percent_off":
        pct = Decimal(terms.discount_percent or 0)
        price = regular * (Decimal(100) - pct) / Decimal(100)
    elif terms.mechanic == "amount_off":
        price = regular - Decimal(terms.discount_amount or 0)
    elif terms.mechanic == "fixed_price":
        price = Decimal(terms.fixed_price or 0)
    elif terms.mechanic == "multi_buy":
        buy = Decimal(terms.buy_quantity or 1)
        free = Decimal(terms.get_quantity or 0)
        price = regular * buy / (buy + free)
    elif terms.mechanic == "bundle":
        if bundle_regular_total <= 0:
            price = regular
        else:
            price = Decimal(terms.bundle_price or 0) * regular / bundle_regular_total
    else:
        raise ValueError(f"unknown mechanic {terms.mechanic!r}")
    return price.quantize(CENT, rounding=ROUND_HALF_UP)


def discount_depth(promo_price: Decimal, regular_price: Decimal) -> float:
    """Fraction off the regular price (0.25 = 25 % off)."""
    if regular_price <= 0:
        return 0.0
    return float((Decimal(regular_price) - Decimal(promo_price)) / Decimal(regular_price))

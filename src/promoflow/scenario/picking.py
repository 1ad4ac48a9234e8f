"""Pick promotable items and scopes from the seeded retailer (demo and tests)."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy.orm import Session

from promoflow.scenario import repository


def regions(session: Session) -> list[str]:
    """Regions that have stores, in name order."""
    return repository.store_regions(session)


def categories(session: Session) -> list[str]:
    """Categories with at least one promotable item, largest first."""
    return repository.promotable_categories(session)


def promotable_skus(
    session: Session,
    *,
    region: str,
    count: int,
    category: str | None = None,
    exclude: set[str] | None = None,
) -> list[str]:
    """SKUs every store of `region` and the web shop carry, so nothing fails for ranging."""
    skus = [
        sku
        for sku in repository.promotable_skus_ranged_across(session, region, category)
        if sku not in (exclude or set())
    ]
    return skus[:count]


def restricted_sku(session: Session) -> str | None:
    """One restricted item (for the validation story)."""
    return repository.first_restricted_sku(session)


def lowest_regular_price(session: Session, skus: list[str]) -> Decimal:
    """The lowest regular price among `skus` (sizes an amount-off deal)."""
    price = repository.lowest_regular_price(session, skus)
    return Decimal(price if price is not None else 0)

"""Pick promotable items and scopes from the seeded retailer (demo and tests)."""

from __future__ import annotations

from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Session

from promoflow.catalog.models import Item, Location, Ranging


def regions(session: Session) -> list[str]:
    """Regions that have stores, in name order."""
    return list(
        session.scalars(
            sa.select(Location.region)
            .where(Location.kind == "store")
            .distinct()
            .order_by(Location.region)
        ).all()
    )


def categories(session: Session) -> list[str]:
    """Categories with at least one promotable item, largest first."""
    rows = session.execute(
        sa.select(Item.category, sa.func.count())
        .where(*_promotable())
        .group_by(Item.category)
        .order_by(sa.func.count().desc(), Item.category)
    ).all()
    return [row[0] for row in rows]


def _promotable() -> tuple[sa.ColumnElement[bool], ...]:
    return (Item.status == "active", Item.restricted.is_(False), Item.promo_eligible.is_(True))


def promotable_skus(
    session: Session,
    *,
    region: str,
    count: int,
    category: str | None = None,
    exclude: set[str] | None = None,
) -> list[str]:
    """SKUs every store of `region` and the web shop carry, so nothing fails for ranging."""
    scope = list(
        session.scalars(
            sa.select(Location.id).where(
                sa.or_(
                    sa.and_(Location.region == region, Location.kind == "store"),
                    Location.kind == "ecommerce",
                )
            )
        ).all()
    )
    ranged_everywhere = (
        sa.select(Ranging.item_id)
        .where(Ranging.location_id.in_(scope))
        .group_by(Ranging.item_id)
        .having(sa.func.count() == len(scope))
    )
    query = sa.select(Item.sku).where(*_promotable(), Item.id.in_(ranged_everywhere))
    if category is not None:
        query = query.where(Item.category == category)
    skus = [
        sku
        for sku in session.scalars(query.order_by(Item.id)).all()
        if sku not in (exclude or set())
    ]
    return skus[:count]


def restricted_sku(session: Session) -> str | None:
    """One restricted item (for the validation story)."""
    return session.scalar(
        sa.select(Item.sku).where(Item.restricted.is_(True)).order_by(Item.id).limit(1)
    )


def lowest_regular_price(session: Session, skus: list[str]) -> Decimal:
    """The lowest regular price among `skus` (sizes an amount-off deal)."""
    price = session.scalar(sa.select(sa.func.min(Item.regular_price)).where(Item.sku.in_(skus)))
    return Decimal(price if price is not None else 0)

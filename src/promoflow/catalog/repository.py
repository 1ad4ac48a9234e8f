"""Every query of the catalogue: items, locations, suppliers by their codes."""

from __future__ import annotations

from collections.abc import Collection, Sequence

import sqlalchemy as sa
from sqlalchemy.orm import InstrumentedAttribute, Session

from promoflow.catalog.models import Item, Location, Supplier
from promoflow.promotions.models import PromotionItem, PromotionLocation

# Codes per IN (...) list: far below every database's bound-parameter limit.
IN_CHUNK = 5000


def _ids_by(
    session: Session,
    code: InstrumentedAttribute[str],
    id_: InstrumentedAttribute[int],
    wanted: Collection[str],
    chunk: int,
) -> dict[str, int]:
    found: dict[str, int] = {}
    ordered = sorted(wanted)
    for start in range(0, len(ordered), chunk):
        for name, id_value in session.execute(
            sa.select(code, id_).where(code.in_(ordered[start : start + chunk]))
        ):
            found[name] = id_value
    return found


def item_ids_by_sku(
    session: Session, skus: Collection[str], *, chunk: int = IN_CHUNK
) -> dict[str, int]:
    """SKU -> item id for the SKUs that exist."""
    return _ids_by(session, Item.sku, Item.id, skus, chunk)


def location_ids_by_code(
    session: Session, codes: Collection[str], *, chunk: int = IN_CHUNK
) -> dict[str, int]:
    """Location code -> location id for the codes that exist."""
    return _ids_by(session, Location.code, Location.id, codes, chunk)


def supplier_ids_by_code(session: Session, codes: Collection[str]) -> dict[str, int]:
    """Supplier code -> supplier id for the codes that exist."""
    rows = session.execute(
        sa.select(Supplier.code, Supplier.id).where(Supplier.code.in_(list(codes)))
    ).all()
    return {code: id_ for code, id_ in rows}


def items_by_sku(
    session: Session, skus: Sequence[str], *, chunk: int | None = None
) -> dict[str, Item]:
    """The items with these SKUs, loaded for update in the caller's transaction."""
    found: dict[str, Item] = {}
    step = chunk or max(len(skus), 1)
    for start in range(0, len(skus), step):
        part = list(skus[start : start + step])
        found.update({i.sku: i for i in session.scalars(sa.select(Item).where(Item.sku.in_(part)))})
    return found


def skus_in_promotions(session: Session, promotion_ids: Collection[int]) -> list[str]:
    """The distinct SKUs in the scope of these promotions (a read join on their scope)."""
    return list(
        session.scalars(
            sa.select(Item.sku)
            .join(PromotionItem, PromotionItem.item_id == Item.id)
            .where(PromotionItem.promotion_id.in_(list(promotion_ids)))
            .distinct()
        ).all()
    )


def location_codes_in_promotions(session: Session, promotion_ids: Collection[int]) -> list[str]:
    """The distinct location codes in the scope of these promotions."""
    return list(
        session.scalars(
            sa.select(Location.code)
            .join(PromotionLocation, PromotionLocation.location_id == Location.id)
            .where(PromotionLocation.promotion_id.in_(list(promotion_ids)))
            .distinct()
        ).all()
    )

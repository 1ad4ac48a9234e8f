"""Every query of the catalogue: codes to ids, and the paged reads people browse it with."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import TypeVarTuple

import sqlalchemy as sa
from sqlalchemy.orm import InstrumentedAttribute, Session

from promoflow.catalog.models import Item, Location, Ranging, Supplier
from promoflow.catalog.schemas import ItemFilter, LocationFilter
from promoflow.kit import keyset
from promoflow.promotions.models import PromotionItem, PromotionLocation

Ts = TypeVarTuple("Ts")

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


def _page(
    session: Session,
    query: sa.Select[*Ts],
    limit: int,
    offset: int,
    after: sa.ColumnElement[bool] | None = None,
) -> tuple[Sequence[sa.Row[*Ts]], int]:
    total = session.scalar(sa.select(sa.func.count()).select_from(query.subquery())) or 0
    if after is not None:
        query = query.where(after)
    rows = session.execute(query.limit(limit).offset(offset)).all()
    return rows, total


def items_page(
    session: Session, where: ItemFilter, limit: int, offset: int = 0, *, after: str | None = None
) -> tuple[Sequence[tuple[Item, str | None]], int]:
    """(item, its supplier's code) in SKU order, filtered, and how many match in all."""
    query = (
        sa.select(Item, Supplier.code)
        .outerjoin(Supplier, Supplier.id == Item.supplier_id)
        .order_by(Item.sku)
    )
    if where.category is not None:
        query = query.where(Item.category == where.category)
    if where.status is not None:
        query = query.where(Item.status == where.status)
    if where.sku_prefix:
        # Not LIKE: SQLite's ignores case and both read `_` and `%` as wildcards, so a
        # prefix would match differently per backend. A substring compares it exactly.
        prefix = where.sku_prefix
        query = query.where(sa.func.substr(Item.sku, 1, len(prefix)) == prefix)
    later = None if after is None else keyset.after([Item.sku], (after,))
    rows, total = _page(session, query, limit, offset, later)
    return [(row[0], row[1]) for row in rows], total


def item_with_supplier(session: Session, sku: str) -> tuple[Item, str | None] | None:
    """One item by SKU with its supplier's code, or None."""
    row = session.execute(
        sa.select(Item, Supplier.code)
        .outerjoin(Supplier, Supplier.id == Item.supplier_id)
        .where(Item.sku == sku)
    ).first()
    return None if row is None else (row[0], row[1])


def locations_page(
    session: Session,
    where: LocationFilter,
    limit: int,
    offset: int = 0,
    *,
    after: str | None = None,
) -> tuple[Sequence[Location], int]:
    """Locations in code order, filtered, and how many match in all."""
    query = sa.select(Location).order_by(Location.code)
    if where.kind is not None:
        query = query.where(Location.kind == where.kind)
    if where.region is not None:
        query = query.where(Location.region == where.region)
    if where.banner is not None:
        query = query.where(Location.banner == where.banner)
    later = None if after is None else keyset.after([Location.code], (after,))
    rows, total = _page(session, query, limit, offset, later)
    return [row[0] for row in rows], total


def location_by_code(session: Session, code: str) -> Location | None:
    """One location by its code, or None."""
    return session.scalar(sa.select(Location).where(Location.code == code))


def suppliers_page(
    session: Session, limit: int, offset: int = 0, *, after: str | None = None
) -> tuple[Sequence[Supplier], int]:
    """Suppliers in code order (after code `after`) and how many there are."""
    later = None if after is None else keyset.after([Supplier.code], (after,))
    query = sa.select(Supplier).order_by(Supplier.code)
    rows, total = _page(session, query, limit, offset, later)
    return [row[0] for row in rows], total


def ranging_page(
    session: Session,
    sku: str | None,
    location_code: str | None,
    limit: int,
    offset: int = 0,
    *,
    after: tuple[str, str] | None = None,
) -> tuple[Sequence[tuple[str, str]], int]:
    """(SKU, location code) pairs a location carries, in that order, and how many in all."""
    query = (
        sa.select(Item.sku, Location.code)
        .select_from(Ranging)
        .join(Item, Item.id == Ranging.item_id)
        .join(Location, Location.id == Ranging.location_id)
        .order_by(Item.sku, Location.code)
    )
    if sku is not None:
        query = query.where(Item.sku == sku)
    if location_code is not None:
        query = query.where(Location.code == location_code)
    later = None if after is None else keyset.after([Item.sku, Location.code], after)
    rows, total = _page(session, query, limit, offset, later)
    return [(row[0], row[1]) for row in rows], total


def is_ranged(session: Session, item_id: int, location_id: int) -> bool:
    """True when the location carries the item."""
    found = session.scalar(
        sa.select(Ranging.item_id).where(
            Ranging.item_id == item_id, Ranging.location_id == location_id
        )
    )
    return found is not None

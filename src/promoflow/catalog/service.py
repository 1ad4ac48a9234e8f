"""The catalogue: apply item master records from a system of record, resolve codes, browse it."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from decimal import Decimal

from sqlalchemy.orm import Session

from promoflow.catalog import eligibility, repository
from promoflow.catalog.models import Item
from promoflow.catalog.schemas import (
    ITEM_STATUSES,
    LOCATION_KINDS,
    Eligibility,
    ItemFilter,
    ItemView,
    LocationFilter,
    LocationView,
    RangingView,
    SupplierView,
)
from promoflow.connectors.ports import CatalogPriceRecord, ItemRecord
from promoflow.events.service import record_event
from promoflow.kit.errors import InvalidInput, NotFound
from promoflow.kit.money import MoneyAmount

IN_CHUNK = 500


def item_ids_by_sku(session: Session, skus: Collection[str]) -> dict[str, int]:
    """SKU -> item id for the SKUs the catalogue knows (unknown ones are left out)."""
    return repository.item_ids_by_sku(session, skus)


def location_ids_by_code(session: Session, codes: Collection[str]) -> dict[str, int]:
    """Location code -> id for the codes the catalogue knows (unknown ones are left out)."""
    return repository.location_ids_by_code(session, codes)


def skus_in_promotions(session: Session, promotion_ids: Collection[int]) -> list[str]:
    """The distinct SKUs in the scope of these promotions."""
    return repository.skus_in_promotions(session, promotion_ids) if promotion_ids else []


def location_codes_in_promotions(session: Session, promotion_ids: Collection[int]) -> list[str]:
    """The distinct location codes in the scope of these promotions."""
    return repository.location_codes_in_promotions(session, promotion_ids) if promotion_ids else []


def _item_view(item: Item, supplier_code: str | None, currency: str) -> ItemView:
    return ItemView(
        sku=item.sku,
        name=item.name,
        department=item.department,
        category=item.category,
        subcategory=item.subcategory,
        brand=item.brand,
        supplier_code=supplier_code,
        unit_cost=MoneyAmount.of(item.unit_cost, currency),
        regular_price=MoneyAmount.of(item.regular_price, currency),
        status=item.status,
        restricted=item.restricted,
        promo_eligible=item.promo_eligible,
        promotable=eligibility.promotable(item),
        case_pack=item.case_pack,
    )


def items_page(
    session: Session,
    where: ItemFilter,
    limit: int,
    offset: int = 0,
    *,
    currency: str,
    after: str | None = None,
) -> tuple[list[ItemView], int]:
    """One page of items in SKU order (after SKU `after`), and how many match the filter;
    cost and price in `currency`, the deployment's."""
    if where.status is not None and where.status not in ITEM_STATUSES:
        raise InvalidInput("status", where.status, f"must be one of {', '.join(ITEM_STATUSES)}")
    rows, total = repository.items_page(session, where, limit, offset, after=after)
    return [_item_view(item, supplier, currency) for item, supplier in rows], total


def get_item(session: Session, sku: str, *, currency: str) -> ItemView:
    """One item by SKU (amounts in `currency`), or NotFound naming it."""
    found = repository.item_with_supplier(session, sku)
    if found is None:
        raise NotFound(f"item {sku[:80]!r} does not exist; see `promoflow catalog items`", sku=sku)
    item, supplier = found
    return _item_view(item, supplier, currency)


def locations_page(
    session: Session,
    where: LocationFilter,
    limit: int,
    offset: int = 0,
    *,
    after: str | None = None,
) -> tuple[list[LocationView], int]:
    """One page of locations in code order (after code `after`), and how many match."""
    if where.kind is not None and where.kind not in LOCATION_KINDS:
        raise InvalidInput("kind", where.kind, f"must be one of {', '.join(LOCATION_KINDS)}")
    rows, total = repository.locations_page(session, where, limit, offset, after=after)
    return [LocationView.model_validate(row) for row in rows], total


def suppliers_page(
    session: Session, limit: int, offset: int = 0, *, after: str | None = None
) -> tuple[list[SupplierView], int]:
    """One page of suppliers in code order (after code `after`), and how many there are."""
    rows, total = repository.suppliers_page(session, limit, offset, after=after)
    return [SupplierView.model_validate(row) for row in rows], total


def ranging_page(
    session: Session,
    sku: str | None,
    location_code: str | None,
    limit: int,
    offset: int = 0,
    *,
    after: tuple[str, str] | None = None,
) -> tuple[list[RangingView], int]:
    """One page of which items which locations carry (optionally of one SKU or location),
    after the (SKU, location code) pair `after`."""
    rows, total = repository.ranging_page(session, sku, location_code, limit, offset, after=after)
    return [RangingView(sku=s, location_code=code) for s, code in rows], total


def item_eligibility(session: Session, sku: str, location_code: str) -> Eligibility:
    """Whether the item may be promoted at the location, with every reason it may not."""
    found = repository.item_with_supplier(session, sku)
    if found is None:
        raise NotFound(f"sku {sku[:80]!r}: no such item; see `promoflow catalog items`", sku=sku)
    location = repository.location_by_code(session, location_code)
    if location is None:
        raise NotFound(
            f"location {location_code[:80]!r}: no such location; see `promoflow catalog locations`",
            location=location_code,
        )
    item = found[0]
    ranged = repository.is_ranged(session, item.id, location.id)
    return eligibility.judge(item, location, ranged=ranged)


def _check(index: int, record: ItemRecord, existing: Item | None) -> None:
    where = f"records[{index}]"
    if not record.sku.strip():
        raise InvalidInput(f"{where}.sku", record.sku, "an item needs its SKU")
    if record.status not in ITEM_STATUSES:
        raise InvalidInput(
            f"{where}.status", record.status, f"must be one of {', '.join(ITEM_STATUSES)}"
        )
    for name in ("unit_cost", "regular_price"):
        value: Decimal | None = getattr(record, name)
        if value is not None and value < 0:
            raise InvalidInput(f"{where}.{name}", value, "cannot be negative")
        if value is None and existing is None:
            raise InvalidInput(
                f"{where}.{name}", None, f"a new item ({record.sku}) needs its {name}"
            )
    if record.case_pack is not None and record.case_pack < 1:
        raise InvalidInput(f"{where}.case_pack", record.case_pack, "must be at least 1")


def apply_items(session: Session, records: Sequence[ItemRecord], source: str) -> int:
    """Create or update items in the caller's transaction; all records or none.

    Fields a record leaves empty (None, or "" for the hierarchy) keep their value;
    one `catalog.items.changed` event names the SKUs.
    """
    if not records:
        return 0
    skus = [r.sku for r in records]
    seen: set[str] = set()
    for index, sku in enumerate(skus):
        if sku in seen:
            raise InvalidInput(f"records[{index}].sku", sku, "appears twice in one batch")
        seen.add(sku)
    existing = repository.items_by_sku(session, skus, chunk=IN_CHUNK)
    supplier_codes = sorted({r.supplier_code for r in records if r.supplier_code})
    suppliers = repository.supplier_ids_by_code(session, supplier_codes)
    for index, record in enumerate(records):
        _check(index, record, existing.get(record.sku))
        if record.supplier_code and record.supplier_code not in suppliers:
            raise InvalidInput(
                f"records[{index}].supplier_code", record.supplier_code, "unknown supplier"
            )
    created = 0
    for record in records:
        item = existing.get(record.sku)
        if item is None:
            item = Item(
                sku=record.sku,
                name=record.name,
                department=record.department,
                category=record.category,
                subcategory=record.subcategory,
                brand=record.brand,
                unit_cost=record.unit_cost,
                regular_price=record.regular_price,
                status=record.status,
                case_pack=record.case_pack or 1,
                attributes={},
            )
            session.add(item)
            created += 1
        else:
            item.name = record.name or item.name
            item.status = record.status
            for name in ("department", "category", "subcategory", "brand"):
                if getattr(record, name):
                    setattr(item, name, getattr(record, name))
            if record.unit_cost is not None:
                item.unit_cost = record.unit_cost
            if record.regular_price is not None:
                item.regular_price = record.regular_price
            if record.case_pack is not None:
                item.case_pack = record.case_pack
        if record.supplier_code:
            item.supplier_id = suppliers[record.supplier_code]
        if record.gtin:
            item.attributes = {**(item.attributes or {}), "gtin": record.gtin}
    session.flush()
    record_event(
        session,
        "catalog.items.changed",
        f"catalog/{source}",
        {"source": source, "count": len(records), "created": created, "skus": skus[:1000]},
    )
    return len(records)


def apply_catalogue_prices(
    session: Session, records: Sequence[CatalogPriceRecord], source: str
) -> int:
    """A supplier's price catalogue: our unit cost of each listed item follows it."""
    if not records:
        return 0
    items = repository.items_by_sku(session, [r.sku for r in records])
    for index, record in enumerate(records):
        if record.sku not in items:
            raise InvalidInput(f"records[{index}].sku", record.sku, "unknown item")
        if record.unit_cost < 0:
            raise InvalidInput(
                f"records[{index}].unit_cost", record.unit_cost, "cannot be negative"
            )
    for record in records:
        items[record.sku].unit_cost = record.unit_cost
    session.flush()
    record_event(
        session,
        "catalog.costs.changed",
        f"catalog/{source}",
        {"source": source, "count": len(records), "skus": [r.sku for r in records][:1000]},
    )
    return len(records)

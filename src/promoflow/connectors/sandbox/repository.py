"""Every query of the sandbox estate: its own tables, and the catalogue it checks requests against.

The sandbox systems stand for software on the other side of a network, so their
state lives in their own tables (`connectors/sandbox/models.py`). The modules that
act as a POS, a WMS or a supplier portal keep the behaviour; what they read and
write goes through the functions here, each taking the session of the call.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from promoflow.catalog.models import Item, Location, Supplier
from promoflow.connectors.sandbox.models import (
    SandboxChannelPrice,
    SandboxFault,
    SandboxFinancePosting,
    SandboxItemChange,
    SandboxPurchaseOrder,
    SandboxReceipt,
    SandboxRequest,
    SandboxStock,
    SandboxStoreTask,
)

IN_CHUNK = 900  # stays under every database's bound-parameter limit


# Requests and receipts: what every sandbox system keeps about its calls.


def first_receipt(session: Session, system: str, operation: str, key: str) -> SandboxReceipt | None:
    """The receipt `system` gave the first call of `operation` with `key`, if any."""
    query = sa.select(SandboxReceipt).where(
        SandboxReceipt.system == system,
        SandboxReceipt.operation == operation,
        SandboxReceipt.key == key,
    )
    return session.scalars(query).first()


def requests_received(
    session: Session, system: str, operation: str | None = None
) -> Sequence[SandboxRequest]:
    """Every call `system` received (of one operation, or all), oldest first."""
    query = sa.select(SandboxRequest).where(SandboxRequest.system == system)
    if operation is not None:
        query = query.where(SandboxRequest.operation == operation)
    return session.scalars(query.order_by(SandboxRequest.id)).all()


def earlier_attempts(session: Session, system: str, operation: str, key: str) -> int:
    """How many times this exact call reached `system` before."""
    query = (
        sa.select(sa.func.count())
        .select_from(SandboxRequest)
        .where(
            SandboxRequest.system == system,
            SandboxRequest.operation == operation,
            SandboxRequest.key == key,
        )
    )
    return int(session.scalar(query) or 0)


# Faults injected into the systems.


def delete_faults(session: Session, system: str | None = None) -> None:
    """Remove the faults of `system` (or of every system)."""
    query = sa.delete(SandboxFault)
    if system is not None:
        query = query.where(SandboxFault.system == system)
    session.execute(query)


def take_forced_failure(session: Session, system: str) -> bool:
    """Count one `fail_next` failure down in one statement; False when none was left."""
    result = session.execute(
        sa.update(SandboxFault)
        .where(SandboxFault.system == system, SandboxFault.fail_next > 0)
        .values(fail_next=SandboxFault.fail_next - 1)
    )
    return bool(getattr(result, "rowcount", 0))


def systems_with_faults(session: Session) -> list[str]:
    """The systems that have a fault row."""
    return list(session.scalars(sa.select(SandboxFault.system)))


# What the sandbox checks requests against: the seeded catalogue, by natural key.


def _known(session: Session, column: Any, values: Iterable[str]) -> set[str]:
    found: set[str] = set()
    ordered = sorted(set(values))
    for start in range(0, len(ordered), IN_CHUNK):
        chunk = ordered[start : start + IN_CHUNK]
        found.update(session.scalars(sa.select(column).where(column.in_(chunk))))
    return found


def known_skus(session: Session, skus: Iterable[str]) -> set[str]:
    """Those of `skus` the catalogue holds."""
    return _known(session, Item.sku, skus)


def known_location_codes(session: Session, codes: Iterable[str]) -> set[str]:
    """Those of `codes` that name a location."""
    return _known(session, Location.code, codes)


def supplier_exists(session: Session, code: str) -> bool:
    """Whether a supplier has this code."""
    return session.scalar(sa.select(Supplier.id).where(Supplier.code == code)) is not None


def location_exists(session: Session, code: str) -> bool:
    """Whether a location has this code."""
    return session.scalar(sa.select(Location.id).where(Location.code == code)) is not None


# Channel prices (POS and web shop).


def insert_channel_prices(session: Session, rows: Sequence[Mapping[str, Any]]) -> None:
    """Activate prices: one `sandbox_channel_prices` row each."""
    session.execute(sa.insert(SandboxChannelPrice), list(rows))


def revert_channel_prices(session: Session, system: str, key: str, at: datetime) -> int:
    """Mark what `key` published on `system` as reverted at `at`; returns how many."""
    result = session.execute(
        sa.update(SandboxChannelPrice)
        .where(
            SandboxChannelPrice.system == system,
            SandboxChannelPrice.publication_key == key,
            SandboxChannelPrice.reverted_at.is_(None),
        )
        .values(reverted_at=at)
    )
    return int(getattr(result, "rowcount", 0) or 0)


def price_application_counts(session: Session, system: str) -> dict[tuple[str, str], int]:
    """How many prices `system` applied per (sku, location_code)."""
    query = sa.select(
        SandboxChannelPrice.sku, SandboxChannelPrice.location_code, sa.func.count()
    ).where(SandboxChannelPrice.system == system)
    query = query.group_by(SandboxChannelPrice.sku, SandboxChannelPrice.location_code)
    return {(sku, code): int(n) for sku, code, n in session.execute(query)}


def price_applications(session: Session, system: str) -> list[tuple[str, str, str]]:
    """(publication_key, sku, location_code) of every price `system` applied."""
    query = sa.select(
        SandboxChannelPrice.publication_key,
        SandboxChannelPrice.sku,
        SandboxChannelPrice.location_code,
    ).where(SandboxChannelPrice.system == system)
    return [(key, sku, code) for key, sku, code in session.execute(query).all()]


def prices_in_force(session: Session, system: str, on: date) -> list[tuple[str, str, Decimal]]:
    """(sku, location_code, price) of unreverted prices covering `on`, oldest applied first."""
    table = SandboxChannelPrice
    query = (
        sa.select(table.sku, table.location_code, table.price)
        .where(table.system == system, table.reverted_at.is_(None))
        .where(table.start <= on, table.end >= on)
        .order_by(table.applied_at, table.id)
    )
    return [(sku, code, price) for sku, code, price in session.execute(query)]


def price_windows(
    session: Session, skus: list[str], location_codes: list[str], start: date, end: date
) -> list[tuple[str, str, str, date, date, Decimal]]:
    """(system, sku, location, start, end, price) of unreverted prices overlapping the dates.

    Oldest applied first, so a later activation can override an earlier one.
    """
    table = SandboxChannelPrice
    query = (
        sa.select(table.system, table.sku, table.location_code, table.start, table.end, table.price)
        .where(table.sku.in_(skus), table.location_code.in_(location_codes))
        .where(table.reverted_at.is_(None), table.start <= end, table.end >= start)
        .order_by(table.applied_at, table.id)
    )
    return [
        (system, sku, code, first, last, price)
        for system, sku, code, first, last, price in session.execute(query)
    ]


# The sales feed's view of the catalogue.


def items_for_sales(session: Session, skus: list[str]) -> list[tuple[str, int, str, Decimal]]:
    """(sku, item id, category, regular price) of the catalogue's items among `skus`."""
    query = sa.select(Item.sku, Item.id, Item.category, Item.regular_price).where(
        Item.sku.in_(skus)
    )
    return [(sku, int(i), category, price) for sku, i, category, price in session.execute(query)]


def locations_by_code(session: Session, codes: list[str]) -> list[tuple[int, str, str]]:
    """(id, code, kind) of the locations among `codes`."""
    query = sa.select(Location.id, Location.code, Location.kind)
    return [
        (int(i), code, kind)
        for i, code, kind in session.execute(query.where(Location.code.in_(codes))).all()
    ]


# Stock (the WMS).


def stock_count(session: Session) -> int:
    """How many positions the WMS holds."""
    return int(session.scalar(sa.select(sa.func.count()).select_from(SandboxStock)) or 0)


def stock_page(
    session: Session,
    after: tuple[str, str],
    limit: int,
    location_codes: Sequence[str] | None = None,
) -> Sequence[SandboxStock]:
    """The next `limit` positions after (location_code, sku) `after`, in that order."""
    query = (
        sa.select(SandboxStock)
        .where(sa.tuple_(SandboxStock.location_code, SandboxStock.sku) > after)
        .order_by(SandboxStock.location_code, SandboxStock.sku)
        .limit(limit)
    )
    if location_codes:
        query = query.where(SandboxStock.location_code.in_(list(location_codes)))
    return session.scalars(query).all()


def stock_rows(
    session: Session, skus: Sequence[str], location_codes: Sequence[str]
) -> Sequence[SandboxStock]:
    """The WMS's rows for the pairs of `skus` x `location_codes` (the caller keeps them short)."""
    query = sa.select(SandboxStock).where(
        SandboxStock.sku.in_(list(skus)),
        SandboxStock.location_code.in_(list(location_codes)),
    )
    return session.scalars(query).all()


def sellable_stock(
    session: Session, skus: list[str], location_codes: list[str]
) -> dict[tuple[str, str], float]:
    """On hand plus in transit per (sku, location_code) in the scope."""
    query = sa.select(
        SandboxStock.sku,
        SandboxStock.location_code,
        SandboxStock.on_hand,
        SandboxStock.in_transit,
    ).where(SandboxStock.sku.in_(skus), SandboxStock.location_code.in_(location_codes))
    return {
        (sku, code): on_hand + in_transit
        for sku, code, on_hand, in_transit in session.execute(query)
    }


# Item master and finance (the ERP).


def items_with_supplier_codes(
    session: Session, skus: list[str] | None = None
) -> list[tuple[Item, str | None]]:
    """Items (those among `skus`, or all) with their supplier's code, by sku."""
    query = sa.select(Item, Supplier.code).outerjoin(Supplier, Supplier.id == Item.supplier_id)
    if skus is not None:
        query = query.where(Item.sku.in_(skus))
    return [(item, code) for item, code in session.execute(query.order_by(Item.sku))]


def item_changes(session: Session, since: datetime | None = None) -> Sequence[SandboxItemChange]:
    """Changes recorded in the ERP's item master (after `since`, or all), oldest first."""
    query = sa.select(SandboxItemChange).order_by(SandboxItemChange.id)
    if since is not None:
        query = query.where(SandboxItemChange.changed_at > since)
    return session.scalars(query).all()


def finance_posting(session: Session, request_key: str) -> SandboxFinancePosting | None:
    """The ledger posting made for `request_key`, if any."""
    query = sa.select(SandboxFinancePosting).where(SandboxFinancePosting.request_key == request_key)
    return session.scalars(query).first()


def finance_postings(session: Session) -> Sequence[SandboxFinancePosting]:
    """Every ledger posting, oldest first."""
    return session.scalars(
        sa.select(SandboxFinancePosting).order_by(SandboxFinancePosting.id)
    ).all()


# Purchase orders (the supplier portal).


def purchase_order_by_key(session: Session, request_key: str) -> SandboxPurchaseOrder | None:
    """The PO submitted under `request_key`, if any."""
    query = sa.select(SandboxPurchaseOrder).where(SandboxPurchaseOrder.request_key == request_key)
    return session.scalars(query).first()


def live_purchase_orders(session: Session, numbers: list[str]) -> Sequence[SandboxPurchaseOrder]:
    """The POs among `numbers` nobody cancelled, by number."""
    query = sa.select(SandboxPurchaseOrder).where(
        SandboxPurchaseOrder.number.in_(numbers),
        SandboxPurchaseOrder.cancelled_at.is_(None),
    )
    return session.scalars(query.order_by(SandboxPurchaseOrder.number)).all()


# Store tasks.


def open_store_tasks(session: Session, promotion_code: str) -> Sequence[SandboxStoreTask]:
    """A promotion's tasks stores have not confirmed yet, in the order they were created."""
    query = sa.select(SandboxStoreTask).where(
        SandboxStoreTask.promotion_code == promotion_code, SandboxStoreTask.status == "open"
    )
    return session.scalars(query.order_by(SandboxStoreTask.id)).all()


def store_tasks_of(session: Session, promotion_code: str) -> Sequence[SandboxStoreTask]:
    """Every task stores hold for a promotion, by store and kind."""
    query = (
        sa.select(SandboxStoreTask)
        .where(SandboxStoreTask.promotion_code == promotion_code)
        .order_by(SandboxStoreTask.location_code, SandboxStoreTask.kind)
    )
    return session.scalars(query).all()


def delete_finance_posting(session: Session, request_key: str) -> bool:
    """Remove the posting made for `request_key` (fault injection); whether there was one."""
    found = finance_posting(session, request_key)
    if found is not None:
        session.delete(found)
    return found is not None

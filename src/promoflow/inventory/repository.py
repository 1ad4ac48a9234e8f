"""Every query of the inventory package: positions, purchase orders and their lines."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import date
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.dialects import sqlite
from sqlalchemy.orm import Session

from promoflow.catalog.models import Item, Location, Supplier
from promoflow.inventory.models import InventoryPosition, PurchaseOrder, PurchaseOrderLine
from promoflow.inventory.schemas import QUANTITIES, AckStatus, PurchaseOrderStatus

# Orders that count nothing as still to arrive.
_CLOSED = (PurchaseOrderStatus.CANCELLED, PurchaseOrderStatus.RECEIVED)

# Positions -----------------------------------------------------------------------

_PG_ARRAYS = {
    "item_id": "int[]",
    "location_id": "int[]",
    "on_hand": "float8[]",
    "on_order": "float8[]",
    "in_transit": "float8[]",
    "allocated": "float8[]",
    "as_of": "timestamptz[]",
    "source": "text[]",
}
_PG_UPSERT = sa.text(
    "INSERT INTO inventory_positions ("
    + ", ".join(_PG_ARRAYS)
    + ") SELECT * FROM unnest("
    + ", ".join(f"CAST(:{name} AS {kind})" for name, kind in _PG_ARRAYS.items())
    + ") ON CONFLICT (item_id, location_id) DO UPDATE SET "
    + ", ".join(f"{name} = excluded.{name}" for name in (*QUANTITIES, "as_of", "source"))
)


def upsert_positions(session: Session, rows: list[dict[str, object]]) -> None:
    """INSERT ... ON CONFLICT (item, location) DO UPDATE for every row.

    PostgreSQL: one statement over unnest()ed arrays, one round trip per batch (an
    executemany sent one statement per row). SQLite: one statement compiled once and
    executemany'd in-process (a multi-row VALUES spent its time compiling).
    """
    if session.get_bind().dialect.name == "postgresql":
        columns = {name: [row[name] for row in rows] for name in _PG_ARRAYS}
        session.execute(_PG_UPSERT, columns)
    else:
        table = cast(sa.Table, InventoryPosition.__table__)
        statement = sqlite.insert(table)
        updated = {name: statement.excluded[name] for name in (*QUANTITIES, "as_of", "source")}
        upsert = statement.on_conflict_do_update(
            index_elements=["item_id", "location_id"], set_=updated
        )
        session.connection().execute(upsert, rows)
    # Positions this session already loaded must not shadow what was just written.
    for loaded in list(session.identity_map.values()):
        if isinstance(loaded, InventoryPosition):
            session.expire(loaded)


# Purchase orders -----------------------------------------------------------------


def purchase_order_by_number(session: Session, number: str) -> PurchaseOrder | None:
    return session.scalar(sa.select(PurchaseOrder).where(PurchaseOrder.number == number))


def purchase_orders_by_numbers(session: Session, numbers: Sequence[str]) -> Sequence[PurchaseOrder]:
    return session.scalars(sa.select(PurchaseOrder).where(PurchaseOrder.number.in_(numbers))).all()


def purchase_order_state(session: Session, number: str) -> tuple[str, str]:
    """(status, ack_status) of one PO read fresh from the database; NoResultFound if none."""
    row = session.execute(
        sa.select(PurchaseOrder.status, PurchaseOrder.ack_status).where(
            PurchaseOrder.number == number
        )
    ).one()
    return row.status, row.ack_status


def numbers_for_promotion(session: Session, promotion_id: int) -> list[str]:
    return list(
        session.scalars(
            sa.select(PurchaseOrder.number).where(PurchaseOrder.promotion_id == promotion_id)
        ).all()
    )


def numbers_awaiting_acknowledgement(session: Session) -> list[str]:
    """Numbers of the POs whose supplier has neither acknowledged nor rejected them."""
    return list(
        session.scalars(
            sa.select(PurchaseOrder.number).where(
                PurchaseOrder.ack_status.not_in((AckStatus.ACKNOWLEDGED, AckStatus.REJECTED))
            )
        )
    )


def open_orders_with_parties(
    session: Session, promotion_id: int
) -> Sequence[tuple[PurchaseOrder, str, str]]:
    """The promotion's open, unrefused POs with supplier and destination codes, by number."""
    rows = session.execute(
        sa.select(PurchaseOrder, Supplier.code, Location.code)
        .join(Supplier, Supplier.id == PurchaseOrder.supplier_id)
        .join(Location, Location.id == PurchaseOrder.destination_id)
        .where(
            PurchaseOrder.promotion_id == promotion_id,
            PurchaseOrder.status == PurchaseOrderStatus.OPEN,
            PurchaseOrder.ack_status != AckStatus.REJECTED,
        )
        .order_by(PurchaseOrder.number)
    ).all()
    return [(order, supplier, destination) for order, supplier, destination in rows]


def lines_with_sku(session: Session, order_id: int) -> Sequence[tuple[PurchaseOrderLine, str]]:
    """An order's lines, each with its item's SKU."""
    rows = session.execute(
        sa.select(PurchaseOrderLine, Item.sku)
        .join(Item, Item.id == PurchaseOrderLine.item_id)
        .where(PurchaseOrderLine.purchase_order_id == order_id)
    ).all()
    return [(line, sku) for line, sku in rows]


def line_quantities(session: Session, order_id: int) -> Sequence[tuple[str, float, float | None]]:
    """(sku, ordered, confirmed) of an order's lines, in line order."""
    rows = session.execute(
        sa.select(Item.sku, PurchaseOrderLine.quantity, PurchaseOrderLine.confirmed_quantity)
        .join(Item, Item.id == PurchaseOrderLine.item_id)
        .where(PurchaseOrderLine.purchase_order_id == order_id)
        .order_by(PurchaseOrderLine.id)
    ).all()
    return [(sku, quantity, confirmed) for sku, quantity, confirmed in rows]


def order_lines(session: Session, order_id: int) -> Sequence[PurchaseOrderLine]:
    return session.scalars(
        sa.select(PurchaseOrderLine).where(PurchaseOrderLine.purchase_order_id == order_id)
    ).all()


def add_order(session: Session, order: PurchaseOrder) -> None:
    """Insert an order, flushed so that it has its id for its lines."""
    session.add(order)
    session.flush()


def add_line(session: Session, order_id: int, item_id: int, quantity: float) -> None:
    session.add(PurchaseOrderLine(purchase_order_id=order_id, item_id=item_id, quantity=quantity))


def outstanding_on_order(
    session: Session,
    item_ids: Collection[int] | sa.Select[Any],
    location_ids: Collection[int] | sa.Select[Any],
    before: date,
) -> list[tuple[int, int, float]]:
    """(item_id, location_id, units) still to arrive on open POs due before `before`."""
    items = item_ids if isinstance(item_ids, sa.Select) else list(item_ids)
    locations = location_ids if isinstance(location_ids, sa.Select) else list(location_ids)
    expected = sa.func.coalesce(PurchaseOrderLine.confirmed_quantity, PurchaseOrderLine.quantity)
    outstanding = expected - PurchaseOrderLine.received_quantity
    rows = session.execute(
        sa.select(
            PurchaseOrderLine.item_id,
            PurchaseOrder.destination_id,
            sa.func.sum(sa.case((outstanding > 0, outstanding), else_=0.0)),
        )
        .join(PurchaseOrder, PurchaseOrder.id == PurchaseOrderLine.purchase_order_id)
        .where(
            PurchaseOrderLine.item_id.in_(items),
            PurchaseOrder.destination_id.in_(locations),
            PurchaseOrder.due_date < before,
            PurchaseOrder.status.not_in(
                (PurchaseOrderStatus.CANCELLED, PurchaseOrderStatus.RECEIVED)
            ),
            PurchaseOrder.ack_status != AckStatus.REJECTED,
        )
        .group_by(PurchaseOrderLine.item_id, PurchaseOrder.destination_id)
    ).all()
    return [(int(item), int(location), float(units)) for item, location, units in rows]

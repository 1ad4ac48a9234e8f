"""Apply inventory positions and supplier acknowledgements from source systems."""

from __future__ import annotations

import math
from collections.abc import Collection, Sequence
from datetime import date, datetime
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.dialects import sqlite
from sqlalchemy.orm import InstrumentedAttribute, Session

from promoflow.catalog.models import Item, Location, Supplier
from promoflow.connectors.ports import PositionRecord, PurchaseOrderAck
from promoflow.events.log import record_event
from promoflow.inventory.models import InventoryPosition, PurchaseOrder, PurchaseOrderLine
from promoflow.kit.clock import utcnow
from promoflow.kit.errors import InvalidInput

QUANTITIES = ("on_hand", "on_order", "in_transit", "allocated")
SOURCE_LIMIT = 32


def apply_positions(session: Session, records: Sequence[PositionRecord], source: str) -> int:
    """Upsert positions in one transaction; one event names the item-locations that changed.

    Set-based: one read resolves every SKU and location code, every record is checked
    before anything is written (InvalidInput names `records[i].field` and the value),
    then the rows are upserted in multi-row INSERT ... ON CONFLICT statements. A key
    repeated in the batch takes its last record.
    """
    if not records:
        return 0
    if not source or len(source) > SOURCE_LIMIT:
        raise InvalidInput("source", source, f"give the source system in 1-{SOURCE_LIMIT} chars")
    item_ids = _ids_by(session, Item.sku, Item.id, {r.sku for r in records})
    location_ids = _ids_by(session, Location.code, Location.id, {r.location_code for r in records})
    rows: dict[tuple[int, int], dict[str, object]] = {}
    for index, record in enumerate(records):
        key = _checked_key(index, record, item_ids, location_ids)
        rows[key] = {
            "item_id": key[0],
            "location_id": key[1],
            "on_hand": record.on_hand,
            "on_order": record.on_order,
            "in_transit": record.in_transit,
            "allocated": record.allocated,
            "as_of": record.as_of,
            "source": source,
        }
    _upsert(session, list(rows.values()))
    record_event(
        session,
        "inventory.positions.changed",
        f"inventory/{source}",
        {
            "source": source,
            "count": len(records),
            "item_ids": sorted({k[0] for k in rows}),
            "location_ids": sorted({k[1] for k in rows}),
        },
    )
    session.flush()
    return len(records)


def _ids_by(
    session: Session,
    code: InstrumentedAttribute[str],
    id_: InstrumentedAttribute[int],
    wanted: set[str],
) -> dict[str, int]:
    found: dict[str, int] = {}
    ordered = sorted(wanted)
    for start in range(0, len(ordered), 5000):
        chunk = ordered[start : start + 5000]
        for name, id_value in session.execute(sa.select(code, id_).where(code.in_(chunk))):
            found[name] = id_value
    return found


def _checked_key(
    index: int, record: PositionRecord, item_ids: dict[str, int], location_ids: dict[str, int]
) -> tuple[int, int]:
    if record.sku not in item_ids:
        raise InvalidInput(f"records[{index}].sku", record.sku, "unknown item")
    if record.location_code not in location_ids:
        raise InvalidInput(
            f"records[{index}].location_code", record.location_code, "unknown location"
        )
    for name in QUANTITIES:
        value = getattr(record, name)
        if not isinstance(value, int | float) or not math.isfinite(value):
            raise InvalidInput(f"records[{index}].{name}", value, "must be a finite number")
        if value < 0:
            raise InvalidInput(
                f"records[{index}].{name}", value, "stock quantities cannot be negative"
            )
    if not isinstance(record.as_of, datetime) or record.as_of.tzinfo is None:
        raise InvalidInput(
            f"records[{index}].as_of", record.as_of, "must be a timestamp with a UTC offset"
        )
    return item_ids[record.sku], location_ids[record.location_code]


def _upsert(session: Session, rows: list[dict[str, object]]) -> None:
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


def apply_acknowledgements(session: Session, acks: Sequence[PurchaseOrderAck]) -> int:
    """Record supplier acknowledgements; an ack already recorded is not applied twice."""
    applied = 0
    for ack in acks:
        order = session.scalar(sa.select(PurchaseOrder).where(PurchaseOrder.number == ack.number))
        if order is None or order.ack_status == ack.status:
            continue
        order.ack_status = ack.status
        order.acknowledged_at = ack.acknowledged_at or utcnow()
        confirmed = dict(ack.confirmed)
        lines = session.execute(
            sa.select(PurchaseOrderLine, Item.sku)
            .join(Item, Item.id == PurchaseOrderLine.item_id)
            .where(PurchaseOrderLine.purchase_order_id == order.id)
        ).all()
        for line, sku in lines:
            line.confirmed_quantity = confirmed.get(
                sku, line.quantity if ack.status == "acknowledged" else 0.0
            )
        record_event(
            session,
            "purchase_order.acknowledged",
            f"purchase_order/{order.number}",
            {"number": order.number, "status": ack.status, "promotion_id": order.promotion_id},
            promotion_id=order.promotion_id,
        )
        applied += 1
    return applied


def promotion_purchase_orders(session: Session, promotion_id: int) -> list[str]:
    """Numbers of the purchase orders raised for a promotion."""
    return list(
        session.scalars(
            sa.select(PurchaseOrder.number).where(PurchaseOrder.promotion_id == promotion_id)
        ).all()
    )


def open_purchase_orders(session: Session, promotion_id: int) -> list[dict[str, Any]]:
    """The promotion's POs still open and not refused, with supplier, DC and lines (by SKU)."""
    orders = session.execute(
        sa.select(PurchaseOrder, Supplier.code, Location.code)
        .join(Supplier, Supplier.id == PurchaseOrder.supplier_id)
        .join(Location, Location.id == PurchaseOrder.destination_id)
        .where(
            PurchaseOrder.promotion_id == promotion_id,
            PurchaseOrder.status == "open",
            PurchaseOrder.ack_status != "rejected",
        )
        .order_by(PurchaseOrder.number)
    ).all()
    found = []
    for order, supplier, destination in orders:
        lines = session.execute(
            sa.select(Item.sku, PurchaseOrderLine.quantity, PurchaseOrderLine.confirmed_quantity)
            .join(Item, Item.id == PurchaseOrderLine.item_id)
            .where(PurchaseOrderLine.purchase_order_id == order.id)
            .order_by(PurchaseOrderLine.id)
        ).all()
        found.append(
            {
                "number": order.number,
                "ack_status": order.ack_status,
                "supplier": supplier,
                "destination": destination,
                "due": order.due_date.isoformat(),
                "lines": [
                    [sku, float(quantity if confirmed is None else confirmed)]
                    for sku, quantity, confirmed in lines
                ],
            }
        )
    return found


def cancel_purchase_order(
    session: Session, number: str, *, reason: str, detail: str = "", actor: str = "system"
) -> bool:
    """The PO is cancelled at its supplier: nothing of it counts as on order any more.

    False when it was already cancelled (or received, which cannot be undone here).
    """
    order = session.scalar(sa.select(PurchaseOrder).where(PurchaseOrder.number == number))
    if order is None:
        raise InvalidInput("number", number, "no purchase order has this number")
    if order.status != "open":
        return False
    order.status = "cancelled"
    record_event(
        session,
        "purchase_order.cancelled",
        f"purchase_order/{order.number}",
        {
            "number": order.number,
            "promotion_id": order.promotion_id,
            "reason": reason,
            "detail": detail,
        },
        actor=actor,
        promotion_id=order.promotion_id,
    )
    return True


def raise_purchase_order(
    session: Session,
    *,
    number: str,
    supplier_id: int,
    destination_id: int,
    promotion_id: int | None,
    lines: Sequence[tuple[int, float]],
    due_date: date,
    ack_due_at: datetime,
) -> PurchaseOrder:
    """Record a purchase order (to send to the supplier after commit)."""
    if not lines:
        raise InvalidInput("lines", [], "a purchase order needs at least one line")
    order = PurchaseOrder(
        number=number,
        supplier_id=supplier_id,
        destination_id=destination_id,
        promotion_id=promotion_id,
        due_date=due_date,
        ack_due_at=ack_due_at,
        status="open",
        ack_status="pending",
    )
    session.add(order)
    session.flush()
    for index, (item_id, quantity) in enumerate(lines):
        if quantity <= 0:
            raise InvalidInput(f"lines[{index}].quantity", quantity, "must be positive")
        session.add(
            PurchaseOrderLine(purchase_order_id=order.id, item_id=item_id, quantity=quantity)
        )
    record_event(
        session,
        "purchase_order.raised",
        f"purchase_order/{number}",
        {"number": number, "lines": len(lines), "promotion_id": promotion_id},
        promotion_id=promotion_id,
    )
    return order


def mark_received(session: Session, numbers: Sequence[str]) -> int:
    """Goods for these purchase orders arrived: lines received in full, orders closed."""
    orders = session.scalars(sa.select(PurchaseOrder).where(PurchaseOrder.number.in_(numbers)))
    received = 0
    for order in orders:
        if order.status == "received":
            continue
        lines = session.scalars(
            sa.select(PurchaseOrderLine).where(PurchaseOrderLine.purchase_order_id == order.id)
        )
        for line in lines:
            line.received_quantity = line.confirmed_quantity or line.quantity
        order.status = "received"
        record_event(
            session,
            "purchase_order.received",
            f"purchase_order/{order.number}",
            {"number": order.number, "promotion_id": order.promotion_id},
            promotion_id=order.promotion_id,
        )
        received += 1
    return received


def outstanding_on_order(
    session: Session,
    item_ids: Collection[int] | sa.Select[Any],
    location_ids: Collection[int] | sa.Select[Any],
    before: date,
) -> list[tuple[int, int, float]]:
    """(item_id, location_id, units) still to arrive on open POs due before `before`.

    Units are the confirmed quantity (or the ordered one until confirmed) less what
    was received; cancelled, received and rejected orders count nothing. Scopes are
    id collections or subqueries.
    """
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
            PurchaseOrder.status.not_in(("cancelled", "received")),
            PurchaseOrder.ack_status != "rejected",
        )
        .group_by(PurchaseOrderLine.item_id, PurchaseOrder.destination_id)
    ).all()
    return [(int(item), int(location), float(units)) for item, location, units in rows]

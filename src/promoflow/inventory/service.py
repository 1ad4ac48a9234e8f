"""Apply inventory positions and supplier acknowledgements from source systems."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from promoflow.catalog.models import Item, Location
from promoflow.connectors.ports import PositionRecord, PurchaseOrderAck
from promoflow.events.log import record_event
from promoflow.inventory.models import InventoryPosition, PurchaseOrder, PurchaseOrderLine
from promoflow.kit.clock import utcnow
from promoflow.kit.errors import InvalidInput


def apply_positions(session: Session, records: Sequence[PositionRecord], source: str) -> int:
    """Upsert positions in one transaction; one event names the item-locations that changed."""
    if not records:
        return 0
    skus = sorted({r.sku for r in records})
    codes = sorted({r.location_code for r in records})
    item_ids = dict(session.execute(sa.select(Item.sku, Item.id).where(Item.sku.in_(skus))).all())
    location_ids = dict(
        session.execute(sa.select(Location.code, Location.id).where(Location.code.in_(codes))).all()
    )
    changed: list[tuple[int, int]] = []
    for index, record in enumerate(records):
        if record.sku not in item_ids:
            raise InvalidInput(f"records[{index}].sku", record.sku, "unknown item")
        if record.location_code not in location_ids:
            raise InvalidInput(
                f"records[{index}].location_code", record.location_code, "unknown location"
            )
        for name in ("on_hand", "on_order", "in_transit", "allocated"):
            if getattr(record, name) < 0:
                raise InvalidInput(
                    f"records[{index}].{name}",
                    getattr(record, name),
                    "stock quantities cannot be negative",
                )
        key = (item_ids[record.sku], location_ids[record.location_code])
        position = session.get(InventoryPosition, key)
        if position is None:
            position = InventoryPosition(item_id=key[0], location_id=key[1])
            session.add(position)
        position.on_hand = record.on_hand
        position.on_order = record.on_order
        position.in_transit = record.in_transit
        position.allocated = record.allocated
        position.as_of = record.as_of
        position.source = source
        changed.append(key)
    record_event(
        session,
        "inventory.positions.changed",
        f"inventory/{source}",
        {
            "source": source,
            "count": len(changed),
            "item_ids": sorted({k[0] for k in changed}),
            "location_ids": sorted({k[1] for k in changed}),
        },
    )
    session.flush()
    return len(changed)


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

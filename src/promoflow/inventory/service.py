"""Apply inventory positions and supplier acknowledgements from source systems."""

from __future__ import annotations

import math
from collections.abc import Collection, Sequence
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from promoflow.catalog import service as catalog_service
from promoflow.connectors.ports import PositionRecord, PurchaseOrderAck
from promoflow.events.service import record_event
from promoflow.inventory import repository
from promoflow.inventory.models import PurchaseOrder
from promoflow.inventory.schemas import (
    QUANTITIES,
    AckStatus,
    OpenPurchaseOrder,
    PurchaseOrderStatus,
)
from promoflow.kit.clock import utcnow
from promoflow.kit.errors import InvalidInput

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
    item_ids = catalog_service.item_ids_by_sku(session, {r.sku for r in records})
    location_ids = catalog_service.location_ids_by_code(session, {r.location_code for r in records})
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
    repository.upsert_positions(session, list(rows.values()))
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


def apply_acknowledgements(session: Session, acks: Sequence[PurchaseOrderAck]) -> int:
    """Record supplier acknowledgements; an ack already recorded is not applied twice."""
    applied = 0
    for ack in acks:
        order = repository.purchase_order_by_number(session, ack.number)
        if order is None or order.ack_status == ack.status:
            continue
        order.ack_status = ack.status
        order.acknowledged_at = ack.acknowledged_at or utcnow()
        confirmed = dict(ack.confirmed)
        for line, sku in repository.lines_with_sku(session, order.id):
            line.confirmed_quantity = confirmed.get(
                sku, line.quantity if ack.status == AckStatus.ACKNOWLEDGED else 0.0
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
    return repository.numbers_for_promotion(session, promotion_id)


def awaiting_acknowledgement(session: Session) -> list[str]:
    """Numbers of the POs whose supplier has neither acknowledged nor rejected them yet."""
    return repository.numbers_awaiting_acknowledgement(session)


def purchase_order_state(session: Session, number: str) -> tuple[str, str]:
    """(status, ack_status) of one PO, read fresh (after a planner's decision, say)."""
    return repository.purchase_order_state(session, number)


def open_purchase_orders(session: Session, promotion_id: int) -> list[OpenPurchaseOrder]:
    """The promotion's POs still open and not refused, with supplier, DC and lines (by SKU)."""
    found: list[OpenPurchaseOrder] = []
    for order, supplier, destination in repository.open_orders_with_parties(session, promotion_id):
        lines = repository.line_quantities(session, order.id)
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
    order = repository.purchase_order_by_number(session, number)
    if order is None:
        raise InvalidInput("number", number, "no purchase order has this number")
    if order.status != PurchaseOrderStatus.OPEN:
        return False
    order.status = PurchaseOrderStatus.CANCELLED.value
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
        status=PurchaseOrderStatus.OPEN.value,
        ack_status=AckStatus.PENDING.value,
    )
    repository.add_order(session, order)
    for index, (item_id, quantity) in enumerate(lines):
        if quantity <= 0:
            raise InvalidInput(f"lines[{index}].quantity", quantity, "must be positive")
        repository.add_line(session, order.id, item_id, quantity)
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
    received = 0
    for order in repository.purchase_orders_by_numbers(session, numbers):
        if order.status == PurchaseOrderStatus.RECEIVED:
            continue
        for line in repository.order_lines(session, order.id):
            line.received_quantity = line.confirmed_quantity or line.quantity
        order.status = PurchaseOrderStatus.RECEIVED.value
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
    return repository.outstanding_on_order(session, item_ids, location_ids, before)

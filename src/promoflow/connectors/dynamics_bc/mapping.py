"""Business Central API v2.0 payloads <-> canonical records.

Entity shapes follow Microsoft's API reference (api-reference/v2.0/resources:
item, location, purchaseOrder, purchaseOrderLine) and, for item ledger entries,
the analytics API (api-analytics/resources/dynamics_itemledgerentry), which
carries the `locationCode` the v2.0 `itemLedgerEntries` resource does not.
Every function maps a whole page or raises `MalformedPayload` naming the field
and value: never a half-mapped page.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit

from promoflow.connectors.dynamics_bc.units import ItemUnits, base_quantity
from promoflow.connectors.odata import bad as _bad
from promoflow.connectors.odata import decimal, enum_value, text, timestamp
from promoflow.connectors.ports import (
    ItemRecord,
    PurchaseOrderAck,
    PurchaseOrderRequest,
)
from promoflow.connectors.stock import StockRow

NEXT_LINK = "@odata.nextLink"
# API status of a purchase order: Draft (open in the client), In Review (pending
# approval), Open (released); the API sends them as XML names (`In_x0020_Review`),
# read through `order_status`. Only a released order counts as acknowledged.
RELEASED = "Open"
PENDING = frozenset({"Draft", "In Review"})


def collection_page(
    system: str, body: Any, *, origin: str, current_url: str
) -> tuple[list[dict[str, Any]], str | None]:
    """The rows of one OData collection page and the link to the next, checked."""
    if not isinstance(body, dict):
        raise _bad(system, "a collection page is a JSON object", body, "body", type(body).__name__)
    rows = body.get("value")
    if not isinstance(rows, list) or not all(isinstance(row, dict) for row in rows):
        raise _bad(
            system, "a collection page holds a `value` array of objects", body, "value", rows
        )
    link = body.get(NEXT_LINK)
    if link is None:
        return rows, None
    if not isinstance(link, str) or not link:
        raise _bad(system, "the next-page link must be a URL", body, NEXT_LINK, link)
    parts = urlsplit(link)
    # The bearer token goes wherever the link points: only ever to the configured host.
    if f"{parts.scheme}://{parts.netloc}" != origin:
        raise _bad(system, f"the next-page link leaves {origin}", body, NEXT_LINK, link)
    if not rows:
        raise _bad(system, "a page with a next link but no rows (partial page)", body, "value", [])
    if link == current_url:
        raise _bad(system, "the next-page link points at the same page", body, NEXT_LINK, link)
    return rows, link


def item_record(system: str, row: Mapping[str, Any], *, source: str) -> ItemRecord:
    """An `item` entity as our canonical item."""
    number = text(system, row, "number")
    blocked = row.get("blocked")
    if not isinstance(blocked, bool):
        raise _bad(system, "expected true or false", row, "blocked", blocked)
    gtin = text(system, row, "gtin", required=False).strip()
    return ItemRecord(
        sku=number,
        name=text(system, row, "displayName", required=False) or number,
        status="inactive" if blocked else "active",
        category=text(system, row, "itemCategoryCode", required=False),
        unit_cost=decimal(system, row, "unitCost"),
        regular_price=decimal(system, row, "unitPrice"),
        gtin=gtin or None,
        source=source,
    )


def item_page(system: str, rows: Sequence[Mapping[str, Any]], *, source: str) -> list[ItemRecord]:
    """A whole page of items, or MalformedPayload for the first row that does not map."""
    return [item_record(system, row, source=source) for row in rows]


def ledger_rows(system: str, rows: Sequence[Mapping[str, Any]]) -> list[StockRow]:
    """Item ledger entries (analytics shape) as stock rows: itemNo x locationCode, quantity."""
    mapped = []
    for row in rows:
        quantity = decimal(system, row, "quantity")
        # A blank location code is a real location in Business Central; a missing one is not.
        if not isinstance(row.get("locationCode"), str):
            raise _bad(
                system, "expected a location code", row, "locationCode", row.get("locationCode")
            )
        mapped.append(
            StockRow(
                sku=text(system, row, "itemNo"),
                location_code=row["locationCode"],
                quantity=float(quantity),
            )
        )
    return mapped


def location_ids(system: str, rows: Sequence[Mapping[str, Any]]) -> dict[str, str]:
    """Location code -> id from `location` entities."""
    return {text(system, row, "code"): text(system, row, "id") for row in rows}


def purchase_order_body(
    order: PurchaseOrderRequest, location_id: str, lines: Sequence[tuple[str, str, float]]
) -> dict[str, Any]:
    """A `purchaseOrder` with its lines for one deep insert (created in one transaction).

    `lines` are (sku, unit code, quantity in that unit): every line names its unit,
    or Business Central would read the quantity in the item's purchase unit.
    """
    return {
        "number": order.number,
        "vendorNumber": order.supplier_code,
        "requestedReceiptDate": order.due.isoformat(),
        "purchaseOrderLines": [
            {
                "sequence": 10000 * (index + 1),
                "lineType": "Item",
                "lineObjectNumber": sku,
                "unitOfMeasureCode": unit,
                "quantity": quantity,
                "locationId": location_id,
                "expectedReceiptDate": order.due.isoformat(),
            }
            for index, (sku, unit, quantity) in enumerate(lines)
        ],
    }


def order_status(system: str, order: Mapping[str, Any]) -> str:
    """The order's status as named in the client (`In_x0020_Review` -> `In Review`)."""
    return enum_value(system, order, "status")


def _expanded_lines(system: str, order: Mapping[str, Any]) -> list[dict[str, Any]]:
    lines = order.get("purchaseOrderLines")
    if not isinstance(lines, list) or not all(isinstance(line, dict) for line in lines):
        raise _bad(
            system, "the order's lines were not expanded", order, "purchaseOrderLines", lines
        )
    return [line for line in lines if enum_value(system, line, "lineType") == "Item"]


def released_item_numbers(system: str, orders: Sequence[Mapping[str, Any]]) -> list[str]:
    """The items on the item lines of released orders: whose units an acknowledgement needs."""
    numbers = {
        text(system, line, "lineObjectNumber")
        for order in orders
        if order_status(system, order) == RELEASED
        for line in _expanded_lines(system, order)
    }
    return sorted(numbers)


def acknowledgement(
    system: str, order: Mapping[str, Any], units: ItemUnits
) -> PurchaseOrderAck | None:
    """A released order as acknowledged with its item lines in base units; None before."""
    number = text(system, order, "number")
    status = order_status(system, order)
    if status in PENDING:
        return None
    if status != RELEASED:
        raise _bad(system, "unknown purchase order status", order, "status", order.get("status"))
    confirmed = tuple(
        (text(system, line, "lineObjectNumber"), base_quantity(system, units, order, line))
        for line in _expanded_lines(system, order)
    )
    return PurchaseOrderAck(
        number=number,
        status="acknowledged",
        confirmed=confirmed,
        acknowledged_at=timestamp(system, order, "lastModifiedDateTime"),
    )

"""Oracle Fusion Cloud SCM REST payloads <-> canonical records.

Resource shapes follow Oracle's REST API for Oracle Fusion Cloud SCM and
Procurement (fasrp/fapra, version 11.13.18.05): `itemsV2`, `inventoryOnhandBalances`,
`purchaseOrders` with its `lines` child, `draftPurchaseOrders` with `lines` and
their `schedules`. Collection pages carry `items`, `count`, `hasMore`, `limit`,
`offset` (and `totalResults` when asked for). A page or row that cannot be mapped
raises `MalformedPayload` naming the field and value: never a half-mapped page.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from promoflow.connectors.odata import decimal, text
from promoflow.connectors.ports import (
    ItemRecord,
    MalformedPayload,
    PurchaseOrderAck,
    PurchaseOrderRequest,
)
from promoflow.connectors.stock import StockRow

ACTIVE = "Active"
DISCONTINUED = frozenset({"Obsolete", "Phase Out", "Discontinued"})
# Purchase order StatusCode values: a dispatched (open) order and its later stages
# count as acknowledged; before approval there is no answer yet.
ACKNOWLEDGED = frozenset(
    {"OPEN", "CLOSED FOR RECEIVING", "CLOSED FOR INVOICING", "CLOSED", "FINALLY CLOSED"}
)
REFUSED = frozenset({"REJECTED", "CANCELED"})
NOT_YET = frozenset({"INCOMPLETE", "PENDING APPROVAL", "ON HOLD", "WITHDRAWN"})


def _bad(system: str, what: str, payload: Any, field: str, value: Any) -> MalformedPayload:
    return MalformedPayload(
        system, f"{what}: {field}={value!r}", payload=payload, field=field, value=value
    )


def collection_page(
    system: str, body: Any, *, limit: int, offset: int
) -> tuple[list[dict[str, Any]], bool]:
    """The rows of one page and whether more follow, after checking the page is whole.

    The server may lower the `limit` asked for (Fusion answers at most 499 rows
    however many are asked for) and says so in the page's `limit`: a page is
    partial only when it holds fewer rows than the server's own limit while
    `hasMore` says more follow. The caller moves on by `count`.
    """
    if not isinstance(body, dict):
        raise _bad(system, "a collection page is a JSON object", body, "body", type(body).__name__)
    rows = body.get("items")
    if not isinstance(rows, list) or not all(isinstance(row, dict) for row in rows):
        raise _bad(system, "a page holds an `items` array of objects", body, "items", rows)
    count, has_more = body.get("count"), body.get("hasMore")
    if not isinstance(has_more, bool):
        raise _bad(system, "hasMore must be true or false", body, "hasMore", has_more)
    if count != len(rows):
        raise _bad(system, f"count disagrees with the {len(rows)} items sent", body, "count", count)
    if body.get("offset", offset) != offset:
        raise _bad(system, f"asked for offset {offset}", body, "offset", body.get("offset"))
    served = body.get("limit", limit)
    if isinstance(served, bool) or not isinstance(served, int) or served < 1:
        raise _bad(system, "the page's limit must be a positive number", body, "limit", served)
    served = min(served, limit)
    if has_more and len(rows) < served:
        raise _bad(
            system,
            f"hasMore with {len(rows)} of {served} rows (partial page)",
            body,
            "hasMore",
            has_more,
        )
    total = body.get("totalResults")
    if total is not None and (
        not isinstance(total, int)
        or offset + len(rows) > total
        or has_more != (offset + len(rows) < total)
    ):
        raise _bad(
            system,
            f"totalResults disagrees with offset {offset} + {len(rows)} rows, hasMore={has_more}",
            body,
            "totalResults",
            total,
        )
    return rows, has_more


def item_record(system: str, row: Mapping[str, Any], *, source: str) -> ItemRecord:
    """An `itemsV2` row as our canonical item."""
    number = text(system, row, "ItemNumber")
    status_value = text(system, row, "ItemStatusValue")
    if status_value == ACTIVE:
        status = "active"
    elif status_value in DISCONTINUED:
        status = "discontinued"
    else:  # Inactive and the statuses a retailer defines (Prototype, Hold, ...)
        status = "inactive"
    return ItemRecord(
        sku=number,
        name=text(system, row, "ItemDescription", required=False) or number,
        status=status,
        category=text(system, row, "ItemClass", required=False),
        source=source,
    )


def item_page(system: str, rows: Sequence[Mapping[str, Any]], *, source: str) -> list[ItemRecord]:
    """A whole page of items, or MalformedPayload for the first row that does not map."""
    return [item_record(system, row, source=source) for row in rows]


def onhand_rows(system: str, rows: Sequence[Mapping[str, Any]]) -> list[StockRow]:
    """`inventoryOnhandBalances` rows as stock rows: ItemNumber x OrganizationCode."""
    return [
        StockRow(
            sku=text(system, row, "ItemNumber"),
            location_code=text(system, row, "OrganizationCode"),
            quantity=float(decimal(system, row, "PrimaryQuantity")),
        )
        for row in rows
    ]


def draft_purchase_order(
    order: PurchaseOrderRequest, *, procurement_bu: str, buyer: str, supplier_site: str
) -> dict[str, Any]:
    """A `draftPurchaseOrders` body with lines and one schedule per line."""
    due = order.due.isoformat()
    return {
        "OrderNumber": order.number,
        "ProcurementBU": procurement_bu,
        "RequisitioningBU": procurement_bu,
        "Buyer": buyer,
        "Supplier": order.supplier_code,
        "SupplierSite": supplier_site,
        "lines": [
            {
                "LineNumber": index + 1,
                "Item": sku,
                "Quantity": quantity,
                "schedules": [
                    {
                        "ScheduleNumber": 1,
                        "Quantity": quantity,
                        "ShipToOrganizationCode": order.destination_code,
                        "RequestedDeliveryDate": due,
                    }
                ],
            }
            for index, (sku, quantity) in enumerate(order.lines)
        ],
    }


def _updated(system: str, order: Mapping[str, Any]) -> datetime | None:
    value = order.get("LastUpdateDate")
    if value is None:
        return None
    try:
        return datetime.fromisoformat(str(value))
    except ValueError:
        raise _bad(
            system, "expected an ISO 8601 timestamp", order, "LastUpdateDate", value
        ) from None


def acknowledgement(system: str, order: Mapping[str, Any]) -> PurchaseOrderAck | None:
    """An order the supplier side has answered, with its lines; None before approval."""
    number = text(system, order, "OrderNumber")
    status = order.get("StatusCode")
    if status in NOT_YET:
        return None
    if status in REFUSED:
        return PurchaseOrderAck(number, "rejected", (), _updated(system, order))
    if status not in ACKNOWLEDGED:
        raise _bad(system, "unknown purchase order status", order, "StatusCode", status)
    lines = order.get("lines")
    if not isinstance(lines, list) or not lines:
        raise _bad(system, "an open order without its lines", order, "lines", lines)
    confirmed: list[tuple[str, float]] = []
    canceled = False
    for line in lines:
        if not isinstance(line, dict):
            raise _bad(system, "a line is not an object", order, "lines", line)
        if line.get("StatusCode") == "CANCELED":
            canceled = True
            continue
        quantity: Decimal = decimal(system, line, "Quantity")
        confirmed.append((text(system, line, "Item"), float(quantity)))
    return PurchaseOrderAck(
        number,
        "partial" if canceled else "acknowledged",
        tuple(confirmed),
        _updated(system, order),
    )

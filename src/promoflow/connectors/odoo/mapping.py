"""Odoo ORM records (as `search_read` returns them) <-> canonical records.

Field names follow Odoo's models: `product.product` (`default_code`, `barcode`,
`list_price`, `standard_price`, `categ_id`, `active`, `write_date`), `stock.quant`
(`product_id`, `location_id`, `quantity`, `reserved_quantity`), `purchase.order`
(`name`, `origin`, `state`, `date_approve`, `order_line`) and
`purchase.order.line` (`order_id`, `product_id`, `product_qty`). A many2one reads
as `[id, display_name]` or `false`; an empty char field reads as `false`;
datetimes are UTC strings `YYYY-MM-DD HH:MM:SS`. A row that cannot be mapped
raises `MalformedPayload` naming the field and value: never a half-mapped page.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from promoflow.connectors.ports import (
    ItemRecord,
    MalformedPayload,
    PurchaseOrderAck,
    PurchaseOrderRequest,
)
from promoflow.connectors.stock import StockRow

ODOO_DATETIME = "%Y-%m-%d %H:%M:%S"
ACKNOWLEDGED = frozenset({"purchase", "done"})
REFUSED = frozenset({"cancel"})
PENDING = frozenset({"draft", "sent", "to approve"})
ITEM_FIELDS = [
    "id",
    "default_code",
    "name",
    "barcode",
    "list_price",
    "standard_price",
    "categ_id",
    "active",
]


def _bad(system: str, what: str, payload: Any, field: str, value: Any) -> MalformedPayload:
    return MalformedPayload(
        system, f"{what}: {field}={value!r}", payload=payload, field=field, value=value
    )


def records(system: str, body: Any, what: str) -> list[dict[str, Any]]:
    """A `search_read` answer: a JSON array of objects."""
    if not isinstance(body, list) or not all(isinstance(row, dict) for row in body):
        raise _bad(system, f"{what} is an array of records", body, "result", type(body).__name__)
    return body


def count(system: str, body: Any, what: str) -> int:
    """A `search_count` answer."""
    if not isinstance(body, int) or isinstance(body, bool) or body < 0:
        raise _bad(system, f"{what} is a count", body, "result", body)
    return body


def record_id(system: str, row: Mapping[str, Any]) -> int:
    value = row.get("id")
    if not isinstance(value, int) or isinstance(value, bool):
        raise _bad(system, "expected an integer id", row, "id", value)
    return value


def char(system: str, row: Mapping[str, Any], field: str, *, required: bool = True) -> str:
    """A char field; `false` is Odoo's empty value."""
    value = row.get(field)
    if value is False or value is None:
        if required:
            raise _bad(system, "expected a non-empty string", row, field, value)
        return ""
    if not isinstance(value, str) or (required and not value.strip()):
        raise _bad(system, "expected a string", row, field, value)
    return value


def number(system: str, row: Mapping[str, Any], field: str) -> Decimal:
    value = row.get(field)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _bad(system, "expected a number", row, field, value)
    try:
        result = Decimal(str(value))
    except InvalidOperation:
        raise _bad(system, "expected a number", row, field, value) from None
    if not result.is_finite():
        raise _bad(system, "expected a finite number", row, field, value)
    return result


def many2one(system: str, row: Mapping[str, Any], field: str) -> tuple[int, str] | None:
    """`[id, display_name]`, or None for `false` (no record)."""
    if row.get(field) is False:
        return None
    return reference(system, row, field)


def reference(system: str, row: Mapping[str, Any], field: str) -> tuple[int, str]:
    """A required many2one: `[id, display_name]`."""
    value = row.get(field)
    if (
        not isinstance(value, list)
        or len(value) != 2
        or not isinstance(value[0], int)
        or isinstance(value[0], bool)
        or not isinstance(value[1], str)
    ):
        raise _bad(system, "expected a many2one [id, name]", row, field, value)
    return value[0], value[1]


def odoo_datetime(moment: datetime) -> str:
    """A datetime as Odoo's domains compare it: UTC, `YYYY-MM-DD HH:MM:SS`."""
    return moment.astimezone(UTC).strftime(ODOO_DATETIME)


def parse_datetime(system: str, row: Mapping[str, Any], field: str) -> datetime | None:
    value = row.get(field)
    if value is False or value is None:
        return None
    try:
        return datetime.strptime(str(value), ODOO_DATETIME).replace(tzinfo=UTC)
    except ValueError:
        raise _bad(system, "expected YYYY-MM-DD HH:MM:SS", row, field, value) from None


def item_record(system: str, row: Mapping[str, Any], *, source: str) -> ItemRecord:
    """A `product.product` row as our canonical item; the category path gives department."""
    sku = char(system, row, "default_code")
    active = row.get("active")
    if not isinstance(active, bool):
        raise _bad(system, "expected true or false", row, "active", active)
    category = many2one(system, row, "categ_id")
    path = [part.strip() for part in category[1].split("/")] if category else []
    return ItemRecord(
        sku=sku,
        name=char(system, row, "name", required=False) or sku,
        status="active" if active else "inactive",
        department=path[-2] if len(path) >= 2 else "",
        category=path[-1] if path else "",
        unit_cost=number(system, row, "standard_price"),
        regular_price=number(system, row, "list_price"),
        gtin=char(system, row, "barcode", required=False) or None,
        source=source,
    )


def item_page(system: str, rows: Sequence[Mapping[str, Any]], *, source: str) -> list[ItemRecord]:
    """A whole page of items, or MalformedPayload for the first row that does not map."""
    return [item_record(system, row, source=source) for row in rows]


def quant_rows(
    system: str,
    rows: Sequence[Mapping[str, Any]],
    *,
    skus: Mapping[int, str],
    locations: Mapping[int, str],
) -> list[StockRow]:
    """Quants as rows keyed by our SKU and location code (resolved from their ids)."""
    mapped: list[StockRow] = []
    for row in rows:
        product = reference(system, row, "product_id")
        location = reference(system, row, "location_id")
        if product[0] not in skus:
            raise _bad(system, "a quant of a product not asked for", row, "product_id", product)
        if location[0] not in locations:
            raise _bad(system, "a quant outside the mapped locations", row, "location_id", location)
        mapped.append(
            StockRow(
                sku=skus[product[0]],
                location_code=locations[location[0]],
                quantity=float(number(system, row, "quantity")),
                reserved=float(number(system, row, "reserved_quantity")),
            )
        )
    return mapped


def purchase_order_values(
    order: PurchaseOrderRequest,
    *,
    partner_id: int,
    product_ids: Mapping[str, int],
    picking_type_id: int,
) -> dict[str, Any]:
    """`purchase.order` values with its lines as one2many create commands `[0, 0, vals]`."""
    planned = datetime.combine(order.due, datetime.min.time()).strftime(ODOO_DATETIME)
    return {
        "partner_id": partner_id,
        "origin": order.number,
        "picking_type_id": picking_type_id,
        "date_planned": planned,
        "order_line": [
            [
                0,
                0,
                {"product_id": product_ids[sku], "product_qty": quantity, "date_planned": planned},
            ]
            for sku, quantity in order.lines
        ],
    }


def acknowledgement(
    system: str,
    order: Mapping[str, Any],
    lines: Sequence[Mapping[str, Any]],
    skus: Mapping[int, str],
) -> PurchaseOrderAck | None:
    """An order the vendor side has answered (confirmed or cancelled); None while pending."""
    number_ = char(system, order, "origin")
    state = order.get("state")
    if state in PENDING:
        return None
    answered = parse_datetime(system, order, "date_approve")
    if state in REFUSED:
        return PurchaseOrderAck(number_, "rejected", (), answered)
    if state not in ACKNOWLEDGED:
        raise _bad(system, "unknown purchase order state", order, "state", state)
    confirmed: list[tuple[str, float]] = []
    for line in lines:
        product = reference(system, line, "product_id")
        if product[0] not in skus:
            raise _bad(system, "a line of a product without SKU", line, "product_id", product)
        confirmed.append((skus[product[0]], float(number(system, line, "product_qty"))))
    if not confirmed:
        raise _bad(system, "a confirmed order without lines", order, "order_line", [])
    return PurchaseOrderAck(number_, "acknowledged", tuple(confirmed), answered)

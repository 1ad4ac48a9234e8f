"""Purchase orders in Odoo: created once per our PO number, answered by their state,
cancelled while they are requests for quotation.

Our PO number is the order's `origin` (Source Document). A submission looks for
an order with that origin first and creates one only if there is none; the
lookup and the create are retried together, so a create whose answer was lost
is found, not repeated. The order is created as a request for quotation
(`draft`) with its lines as one2many commands in the same call (one Odoo
transaction); the vendor's confirmation moves it to `purchase`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from promoflow.connectors.odoo import mapping
from promoflow.connectors.odoo.client import OdooClient
from promoflow.connectors.odoo.reading import CHUNK, pages, skus_by_id
from promoflow.connectors.ports import (
    ConnectorError,
    MalformedPayload,
    PurchaseOrderAck,
    PurchaseOrderCancellation,
    PurchaseOrderRequest,
)
from promoflow.kit.errors import InvalidInput
from promoflow.kit.sequences import chunked

ORDER_FIELDS = ["id", "name", "origin", "state", "date_approve"]


def _one(
    client: OdooClient, model: str, domain: list[Any], fields: list[str], limit: int = 2
) -> list[dict[str, Any]]:
    """`search_read` in one attempt (the caller's guarded step retries the whole step)."""
    params = {"domain": domain, "fields": fields, "limit": limit}
    return mapping.records(
        client.system, client.api.execute(model, "search_read", params), f"{model}.search_read"
    )


def _refused(client: OdooClient, message: str) -> ConnectorError:
    return ConnectorError(client.system, message, retryable=False)


def _partner(client: OdooClient, supplier_code: str) -> int:
    rows = _one(client, "res.partner", [["ref", "=", supplier_code]], ["id"])
    if len(rows) != 1:
        found = "no vendor" if not rows else "several vendors"
        raise _refused(
            client,
            f"order.supplier_code={supplier_code!r}: {found} with this Reference (res.partner "
            "ref) in Odoo; give exactly one vendor that reference",
        )
    return mapping.record_id(client.system, rows[0])


def _products(client: OdooClient, skus: Sequence[str]) -> dict[str, int]:
    domain = [["default_code", "in", sorted(set(skus))]]
    rows = mapping.records(
        client.system,
        client.api.execute(
            "product.product", "search_read", {"domain": domain, "fields": ["id", "default_code"]}
        ),
        "product.product.search_read",
    )
    found = {
        mapping.char(client.system, row, "default_code"): mapping.record_id(client.system, row)
        for row in rows
    }
    missing = sorted(set(skus) - set(found))
    if missing:
        raise _refused(
            client,
            f"order.lines: no active Odoo product has the internal reference {missing}; "
            "create them or fix the SKUs",
        )
    return found


def _receipt_type(
    client: OdooClient, location_map: Mapping[str, str], destination_code: str
) -> int:
    names = [name for name, code in location_map.items() if code == destination_code]
    if not names:
        raise InvalidInput(
            "order.destination_code",
            destination_code,
            "is not in config.location_map; map the Odoo location that receives it",
        )
    locations = _one(client, "stock.location", [["complete_name", "in", names]], ["id"], len(names))
    ids = sorted(mapping.record_id(client.system, row) for row in locations)
    domain = [["code", "=", "incoming"], ["default_location_dest_id", "in", ids]]
    rows = _one(client, "stock.picking.type", domain, ["id"])
    if not rows:
        raise _refused(
            client,
            f"order.destination_code={destination_code!r}: no Odoo receipt operation type "
            f"delivers to {', '.join(names)}",
        )
    return mapping.record_id(client.system, rows[0])


def _create(
    client: OdooClient, location_map: Mapping[str, str], order: PurchaseOrderRequest
) -> str:
    existing = _one(client, "purchase.order", [["origin", "=", order.number]], ["name"])
    if existing:
        return mapping.char(client.system, existing[0], "name")
    values = mapping.purchase_order_values(
        order,
        partner_id=_partner(client, order.supplier_code),
        product_ids=_products(client, [sku for sku, _ in order.lines]),
        picking_type_id=_receipt_type(client, location_map, order.destination_code),
    )
    created = client.api.execute("purchase.order", "create", {"vals_list": [values]})
    if (
        not isinstance(created, list)
        or len(created) != 1
        or not isinstance(created[0], int)
        or isinstance(created[0], bool)
    ):
        raise MalformedPayload(
            client.system,
            f"purchase.order.create answered {created!r}, not one new id",
            payload=created,
            field="result",
            value=created,
        )
    rows = mapping.records(
        client.system,
        client.api.execute("purchase.order", "read", {"fields": ["name"]}, ids=created),
        "purchase.order.read",
    )
    if len(rows) != 1:
        raise MalformedPayload(
            client.system, "purchase.order.read of the new order", payload=rows, field="result"
        )
    return mapping.char(client.system, rows[0], "name")


def submit(client: OdooClient, location_map: Mapping[str, str], order: PurchaseOrderRequest) -> str:
    """The Odoo order for our PO number, created with its lines if there is none yet."""
    if not order.lines:
        raise InvalidInput("order.lines", [], "a purchase order needs at least one line")
    for sku, quantity in order.lines:
        if quantity <= 0:
            raise InvalidInput(f"order.lines[{sku}].quantity", quantity, "must be positive")
    return client.guarded("submit_purchase_order", lambda: _create(client, location_map, order))


def acknowledgements(client: OdooClient, numbers: Sequence[str]) -> list[PurchaseOrderAck]:
    """Answered orders among `numbers`: confirmed (with their lines) or cancelled."""
    acks: list[PurchaseOrderAck] = []
    for chunk in chunked(sorted(set(numbers)), CHUNK):
        domain = [["origin", "in", list(chunk)]]
        for orders in pages(client, "purchase.order", domain, ORDER_FIELDS):
            ids = [mapping.record_id(client.system, row) for row in orders]
            lines: dict[int, list[dict[str, Any]]] = {order_id: [] for order_id in ids}
            line_domain = [["order_id", "in", ids]]
            fields = ["order_id", "product_id", "product_qty"]
            for rows in pages(client, "purchase.order.line", line_domain, fields):
                for row in rows:
                    order_ref = mapping.reference(client.system, row, "order_id")
                    lines.setdefault(order_ref[0], []).append(row)
            product_ids = [
                mapping.reference(client.system, row, "product_id")[0]
                for rows in lines.values()
                for row in rows
            ]
            skus = skus_by_id(client, product_ids)
            for row in orders:
                ack = mapping.acknowledgement(
                    client.system, row, lines[mapping.record_id(client.system, row)], skus
                )
                if ack is not None:
                    acks.append(ack)
    return acks


def cancel(client: OdooClient, number: str) -> PurchaseOrderCancellation:
    """Cancel (`button_cancel`) our orders still at the RFQ stage; a confirmed one stays."""

    def step() -> PurchaseOrderCancellation:
        rows = _one(client, "purchase.order", [["origin", "=", number]], ORDER_FIELDS, limit=20)
        standing: list[int] = []
        for row in rows:
            state = row.get("state")
            if state in mapping.REFUSED:
                continue
            if state in mapping.ACKNOWLEDGED:
                name = mapping.char(client.system, row, "name")
                return PurchaseOrderCancellation(number, "confirmed", f"{name} is {state}")
            standing.append(mapping.record_id(client.system, row))
        if standing:
            client.api.execute("purchase.order", "button_cancel", {}, ids=standing)
        detail = f"{len(standing)} cancelled in Odoo" if standing else "nothing standing in Odoo"
        return PurchaseOrderCancellation(number, "cancelled", detail)

    return client.guarded("cancel_purchase_order", step)

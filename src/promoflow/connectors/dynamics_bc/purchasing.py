"""Purchase orders of one Business Central company: created once with their lines in
the declared unit, cancelled while not released, acknowledged in base units.

A mixin of `BusinessCentralConnector` (the PurchaseOrderSystem port), kept apart so
each file stays small: it uses the connector's client, system name and unit settings.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from promoflow.connectors.dynamics_bc import mapping
from promoflow.connectors.dynamics_bc.client import BusinessCentralClient
from promoflow.connectors.dynamics_bc.units import (
    UNIT_FIELDS,
    ItemUnits,
    item_units,
    order_quantity,
)
from promoflow.connectors.odata import any_of, literal, text
from promoflow.connectors.ports import (
    ConnectorError,
    PurchaseOrderAck,
    PurchaseOrderCancellation,
    PurchaseOrderRequest,
)
from promoflow.kit.errors import InvalidInput
from promoflow.kit.logging import get_logger
from promoflow.kit.sequences import chunked

log = get_logger(__name__)
# Values per `or` filter: keeps each URL well under the 2,048-character limits of proxies.
FILTER_CHUNK = 40
LINE_FIELDS = "lineType,lineObjectNumber,unitOfMeasureCode,quantity"


class PurchaseOrders:
    """PurchaseOrderSystem for Business Central (mixed into the connector)."""

    client: BusinessCentralClient
    system: str
    purchase_unit: str
    units_api: str

    def _existing_order(self, number: str) -> dict[str, Any] | None:
        params = {"$filter": f"number eq {literal(number)}", "$select": "id,number,status"}
        found = self.client.get(
            "purchase_order_lookup", self.client.entity_url("purchaseOrders"), params
        )
        rows, _ = mapping.collection_page(
            self.system, found, origin=self.client.origin, current_url=""
        )
        return rows[0] if rows else None

    def _location_id(self, code: str) -> str:
        params = {"$filter": f"code eq {literal(code)}", "$select": "id,code"}
        body = self.client.get("location_lookup", self.client.entity_url("locations"), params)
        rows, _ = mapping.collection_page(
            self.system, body, origin=self.client.origin, current_url=""
        )
        ids = mapping.location_ids(self.system, rows)
        if code not in ids:
            raise ConnectorError(
                self.system,
                f"destination_code={code!r}: no such location in the Business Central company; "
                "create it there or correct the destination",
                retryable=False,
            )
        return ids[code]

    def _units(self, skus: Sequence[str]) -> ItemUnits:
        """The base unit of each item and, with `units_api`, the sizes of its other units."""
        items: list[dict[str, Any]] = []
        sizes: list[dict[str, Any]] = []
        for chunk in chunked(sorted(set(skus)), FILTER_CHUNK):
            params = {"$select": "number,baseUnitOfMeasureCode", "$filter": any_of("number", chunk)}
            for rows in self.client.pages("item_units", self.client.entity_url("items"), params):
                items.extend(rows)
            if self.units_api:
                url = self.client.route_url(self.units_api, "itemUnitsOfMeasure")
                params = {"$select": UNIT_FIELDS, "$filter": any_of("itemNo", chunk)}
                for rows in self.client.pages("item_units", url, params):
                    sizes.extend(rows)
        return item_units(self.system, items, sizes)

    def submit_purchase_order(self, key: str, order: PurchaseOrderRequest) -> str:
        """Create the order with its lines in one deep insert, once per order number."""
        if not order.lines:
            raise InvalidInput("order.lines", [], "a purchase order needs at least one line")
        for sku, quantity in order.lines:
            if quantity <= 0:
                raise InvalidInput(f"order.lines[{sku}].quantity", quantity, "must be positive")
        existing = self._existing_order(order.number)
        if existing is not None:
            log.info("bc_purchase_order_exists", connection=self.system, key=key, po=order.number)
            return text(self.system, existing, "number")
        units = self._units([sku for sku, _ in order.lines])
        lines = [
            (sku, *order_quantity(self.system, units, sku, quantity, self.purchase_unit))
            for sku, quantity in order.lines
        ]
        body = mapping.purchase_order_body(order, self._location_id(order.destination_code), lines)
        created = self.client.post(
            "submit_purchase_order", self.client.entity_url("purchaseOrders"), body
        )
        log.info("bc_purchase_order_created", connection=self.system, key=key, po=order.number)
        return text(self.system, created, "number")

    def cancel_purchase_order(self, key: str, number: str) -> PurchaseOrderCancellation:
        """Delete our order while it is a draft or in review; a released one stays."""
        existing = self._existing_order(number)
        if existing is None:
            return PurchaseOrderCancellation(number, "cancelled", "no such order in the company")
        if mapping.order_status(self.system, existing) == mapping.RELEASED:
            return PurchaseOrderCancellation(number, "confirmed", "released to the vendor")
        order_id = text(self.system, existing, "id")
        url = self.client.entity_url(f"purchaseOrders({order_id})")
        self.client.delete("cancel_purchase_order", url)
        log.info("bc_purchase_order_deleted", connection=self.system, key=key, po=number)
        return PurchaseOrderCancellation(number, "cancelled", "deleted in Business Central")

    def acknowledgements(self, numbers: list[str]) -> list[PurchaseOrderAck]:
        """Released orders among `numbers`, with their item lines as confirmed."""
        acks: list[PurchaseOrderAck] = []
        for chunk in chunked(sorted(set(numbers)), FILTER_CHUNK):
            params = {
                "$filter": any_of("number", chunk),
                "$select": "id,number,status,lastModifiedDateTime",
                "$expand": f"purchaseOrderLines($select={LINE_FIELDS})",
            }
            url = self.client.entity_url("purchaseOrders")
            for rows in self.client.pages("acknowledgements", url, params):
                units = self._units(mapping.released_item_numbers(self.system, rows))
                for row in rows:
                    ack = mapping.acknowledgement(self.system, row, units)
                    if ack is not None:
                        acks.append(ack)
        return acks

"""SAP S/4HANA through its OData V2 APIs: item master, stock, purchase orders.

- item_master: `API_PRODUCT_SRV` A_Product with to_Description and to_Valuation.
- inventory: `API_MATERIAL_STOCK_SRV` A_MatlStkInAcctMod, summed per material and
  our location (plants map to locations by configuration).
- purchase_orders: `API_PURCHASEORDER_PROCESS_SRV` A_PurchaseOrder created by deep
  insert; confirmations read back from the schedule lines; cancelled by DELETE,
  which SAP answers by flagging every item deleted.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import ClassVar

import httpx

from promoflow.connectors.framework import (
    ConnectionCheck,
    ConnectorConfig,
    ConnectorContext,
    Manifest,
    timed_check,
)
from promoflow.connectors.odata import any_of, literal
from promoflow.connectors.ports import (
    ItemRecord,
    MalformedPayload,
    PositionRecord,
    PurchaseOrderAck,
    PurchaseOrderCancellation,
    PurchaseOrderRequest,
    item_change,
)
from promoflow.connectors.sap import diagnostics
from promoflow.connectors.sap.batch import BatchRequest
from promoflow.connectors.sap.client import PRODUCTS, PURCHASE_ORDERS, STOCK, ODataService, Query
from promoflow.connectors.sap.manifest import MANIFEST
from promoflow.connectors.sap.mapping import (
    PurchasingSettings,
    acknowledgement,
    collection_page,
    item_record,
    purchase_order_payload,
)
from promoflow.connectors.sap.settings import SapSettings
from promoflow.connectors.sap.status import StatusRule
from promoflow.connectors.sap.stock import StockReader
from promoflow.kit.clock import utcnow
from promoflow.kit.errors import InvalidInput

NUMBERS_PER_PART = 20
PRODUCT_FIELDS = (
    "Product",
    "ProductGroup",
    "Division",
    "ProductHierarchy",
    "Brand",
    "CrossPlantStatus",
    "CrossPlantStatusValidityDate",
    "IsMarkedForDeletion",
    "ProductStandardID",
    "LastChangeDateTime",
)


class SapS4HanaConnector:
    """One S/4HANA system: ItemMaster, ItemStream, InventorySource, PositionStream, POs."""

    manifest: ClassVar[Manifest] = MANIFEST
    system_details = staticmethod(diagnostics.system_details)

    def __init__(self, config: ConnectorConfig, context: ConnectorContext) -> None:
        self.config = config
        self.context = context
        self.system = context.name
        self.settings = read = SapSettings.read(config)
        self.plants = read.plants
        self.stock_types = read.stock_types
        self.page_size = read.page_size
        self.blocking = read.blocking
        self._http: httpx.Client | None = None
        self._services: dict[str, ODataService] = {}

    def __repr__(self) -> str:
        return f"SapS4HanaConnector({self.system!r}, {self.config!r})"

    def _service(self, name: str) -> ODataService:
        if self._http is None:
            read = self.settings
            # The password is resolved here, when the first call needs it, and lives
            # only inside httpx's auth object (never in logs, repr or errors).
            self._http = self.config.http_client(
                self.system,
                base_url=read.base_url,
                auth=httpx.BasicAuth(read.user, self.config.secret("password")),
                params={"sap-client": read.sap_client} if read.sap_client else None,
                timeout=read.timeout_seconds,
            )
        if name not in self._services:
            self._services[name] = ODataService(
                self._http, self.context.guard, name, page_size=self.page_size
            )
        return self._services[name]

    def close(self) -> None:
        if self._http is not None:
            self._http.close()

    def check_connection(self) -> ConnectionCheck:
        """Read one product with the configured credentials."""

        def probe() -> str:
            body = self._service(PRODUCTS).get_json(
                "check connection",
                "A_Product",
                {"$top": "1", "$select": "Product", "$inlinecount": "allpages"},
            )
            page = collection_page(self.system, body)
            return f"{PRODUCTS} answers; {page.count} products"

        return timed_check(probe)

    # item_master -------------------------------------------------------------------

    def stream_items(self, since: datetime | None) -> Iterator[Sequence[ItemRecord]]:
        """Pages of products changed since a time (None = all), ordered by product."""
        condition = ""
        if since is not None:
            stamp = since.strftime("%Y-%m-%dT%H:%M:%S")
            condition = f"LastChangeDateTime gt datetimeoffset'{stamp}Z'"
        query = Query(
            "A_Product",
            filter=condition,
            select=(*PRODUCT_FIELDS, "to_Description", "to_Valuation"),
            expand=("to_Description", "to_Valuation"),
            orderby=("Product",),
        )
        language = self.settings.language
        area = self.settings.valuation_area
        for page in self._service(PRODUCTS).read_pages("read products", query):
            rule = StatusRule(self.blocking, utcnow().date())
            yield [item_record(self.system, row, language, area, rule=rule) for row in page.rows]

    def changed_items(self, since: datetime | None) -> list[dict[str, object]]:
        """Item master records changed since a time (None = all)."""
        return [item_change(item) for page in self.stream_items(since) for item in page]

    # inventory ---------------------------------------------------------------------

    def _stock(self) -> StockReader:
        return StockReader(self._service(STOCK), self.plants, self.stock_types)

    def fetch_positions(self, skus: list[str], location_codes: list[str]) -> list[PositionRecord]:
        """Positions for the scope; an item-location SAP holds no stock for is zero."""
        return self._stock().fetch(skus, location_codes)

    def stream_positions(
        self, location_codes: Sequence[str] | None = None
    ) -> Iterator[Sequence[PositionRecord]]:
        """Every position of the mapped plants, page by page."""
        return self._stock().stream(location_codes)

    # purchase_orders ---------------------------------------------------------------

    def _purchasing(self) -> PurchasingSettings:
        read = self.settings
        values = {
            "company_code": read.company_code,
            "purchasing_organization": read.purchasing_organization,
            "purchasing_group": read.purchasing_group,
        }
        for name, value in values.items():
            if not value:
                raise InvalidInput(f"config.{name}", value, "is needed to create purchase orders")
        return PurchasingSettings(order_type=read.order_type, **values)

    def submit_purchase_order(self, key: str, order: PurchaseOrderRequest) -> str:
        """Create the PO once per key (its reference is a hash of the key); SAP's number."""
        settings = self._purchasing()
        service = self._service(PURCHASE_ORDERS)
        # CorrespncExternalReference holds 12 characters: a digest of the key fits and
        # finds the order a lost answer already created.
        reference = "PF" + hashlib.sha256(key.encode()).hexdigest()[:10].upper()
        existing = service.get_json(
            "find purchase order",
            "A_PurchaseOrder",
            {
                "$filter": f"CorrespncExternalReference eq {literal(reference)}",
                "$select": "PurchaseOrder",
                "$top": "1",
            },
        )
        rows = collection_page(self.system, existing).rows
        if rows:
            return str(rows[0]["PurchaseOrder"])
        plant, storage = self.plants.plant_of(order.destination_code)
        payload = purchase_order_payload(order, reference, plant, storage, settings)
        response = service.modify(
            "create purchase order",
            "POST",
            "A_PurchaseOrder",
            content=json.dumps(payload).encode(),
            content_type="application/json",
        )
        body = response.json() if response.content else None
        created = body.get("d") if isinstance(body, dict) else None
        number = created.get("PurchaseOrder") if isinstance(created, dict) else None
        if not number:
            raise MalformedPayload(
                self.system,
                "the created purchase order came back without its number",
                payload=body,
                field="d.PurchaseOrder",
                value=number,
            )
        return str(number)

    def acknowledgements(self, numbers: list[str]) -> list[PurchaseOrderAck]:
        """What suppliers confirmed so far for our PO numbers (one $batch of reads)."""
        if not numbers:
            return []
        requests = []
        for start in range(0, len(numbers), NUMBERS_PER_PART):
            chunk = numbers[start : start + NUMBERS_PER_PART]
            query = Query(
                "A_PurchaseOrder",
                filter=any_of("CorrespncInternalReference", chunk),
                expand=("to_PurchaseOrderItem", "to_PurchaseOrderItem/to_ScheduleLine"),
            )
            requests.append(BatchRequest("GET", query.path(top=len(chunk) * 5, skip=0)))
        answers = self._service(PURCHASE_ORDERS).batch("read acknowledgements", requests)
        acks: list[PurchaseOrderAck] = []
        for answer in answers:
            page = collection_page(self.system, answer.body)
            if page.count is not None and page.count > len(page.rows):
                raise MalformedPayload(
                    self.system,
                    f"read acknowledgements: {len(page.rows)} orders of {page.count} came back",
                    payload=answer.body,
                    field="d.results",
                    value=len(page.rows),
                )
            for row in page.rows:
                ack = acknowledgement(self.system, row)
                if ack is not None:
                    acks.append(ack)
        return acks

    def cancel_purchase_order(self, key: str, number: str) -> PurchaseOrderCancellation:
        """Delete our PO (SAP flags its items deleted) unless the supplier committed to it."""
        service = self._service(PURCHASE_ORDERS)
        body = service.get_json(
            "find purchase order to cancel",
            "A_PurchaseOrder",
            {
                "$filter": f"CorrespncInternalReference eq {literal(number)}",
                "$expand": "to_PurchaseOrderItem,to_PurchaseOrderItem/to_ScheduleLine",
            },
        )
        standing = []
        for order in collection_page(self.system, body).rows:
            answer = acknowledgement(self.system, order)
            if answer is not None and answer.status == "rejected":
                continue  # already deleted
            if answer is not None:
                committed = ", ".join(f"{sku} {units:g}" for sku, units in answer.confirmed)
                return PurchaseOrderCancellation(
                    number, "confirmed", f"SAP PO {order.get('PurchaseOrder')}: {committed}"
                )
            standing.append(str(order.get("PurchaseOrder") or ""))
        for purchase_order in standing:
            service.modify(
                "cancel purchase order",
                "DELETE",
                f"A_PurchaseOrder({literal(purchase_order)})",
                content=b"",
                content_type="application/json",
            )
        detail = f"deleted {', '.join(standing)}" if standing else "nothing standing in SAP"
        return PurchaseOrderCancellation(number, "cancelled", detail)

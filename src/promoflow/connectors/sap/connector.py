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
from typing import Any, ClassVar

import httpx

from promoflow.connectors.framework import (
    Capability,
    ConfigField,
    ConnectionCheck,
    ConnectorConfig,
    ConnectorContext,
    Manifest,
    timed_check,
    timeout_field,
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
from promoflow.connectors.sap.batch import BatchRequest
from promoflow.connectors.sap.client import ODataService, Query
from promoflow.connectors.sap.mapping import (
    PlantLocations,
    PurchasingSettings,
    StockTypes,
    acknowledgement,
    collection_page,
    item_record,
    purchase_order_payload,
)
from promoflow.connectors.sap.status import DEFAULT_BLOCKING, StatusRule, blocking_statuses
from promoflow.connectors.sap.stock import StockReader
from promoflow.kit.clock import utcnow
from promoflow.kit.errors import InvalidInput

PRODUCTS = "API_PRODUCT_SRV"
STOCK = "API_MATERIAL_STOCK_SRV"
PURCHASE_ORDERS = "API_PURCHASEORDER_PROCESS_SRV"
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

MANIFEST = Manifest(
    slug="sap-s4hana",
    name="SAP S/4HANA",
    kind="erp",
    protocol="OData V2 (SAP Gateway)",
    capabilities=(Capability.ITEM_MASTER, Capability.INVENTORY, Capability.PURCHASE_ORDERS),
    config=(
        ConfigField(
            "base_url", "url", description="OData root, e.g. https://host/sap/opu/odata/sap"
        ),
        ConfigField("user", description="communication user (basic authentication)"),
        ConfigField("password", secret=True, description="env:NAME or file:/path"),
        ConfigField("sap_client", required=False, description="sap-client, e.g. 100"),
        ConfigField(
            "plant_locations",
            description="which plant is which of our locations: 1010=DC01, 1020/0001=ST002",
        ),
        ConfigField("on_hand_stock_types", default="01", description="InventoryStockType list"),
        ConfigField("in_transit_stock_types", required=False, default=""),
        ConfigField("language", default="EN", description="language of product descriptions"),
        ConfigField("valuation_area", required=False, default="", description="cost from here"),
        ConfigField(
            "page_size",
            "integer",
            default=1000,
            description="$top; 0 = server paging",
            minimum=0,
            maximum=10000,
        ),
        ConfigField("company_code", required=False, default=""),
        ConfigField("purchasing_organization", required=False, default=""),
        ConfigField("purchasing_group", required=False, default=""),
        ConfigField("order_type", default="NB", description="purchase order type"),
        ConfigField(
            "sales_blocking_statuses",
            required=False,
            default=DEFAULT_BLOCKING,
            description="CrossPlantStatus codes that make an item inactive from their validity "
            "date (01: blocked for procurement/warehouse); other statuses leave it active",
        ),
        timeout_field(),
    ),
    description="Item master, stock and purchase orders from SAP S/4HANA's OData V2 APIs",
)


def _codes(setting: Any) -> frozenset[str]:
    return frozenset(code.strip() for code in str(setting or "").split(",") if code.strip())


class SapS4HanaConnector:
    """One S/4HANA system: ItemMaster, ItemStream, InventorySource, PositionStream, POs."""

    manifest: ClassVar[Manifest] = MANIFEST

    def __init__(self, config: ConnectorConfig, context: ConnectorContext) -> None:
        self.config = config
        self.context = context
        self.system = context.name
        self.plants = PlantLocations(str(config.get("plant_locations")))
        self.stock_types = StockTypes(
            _codes(config.get("on_hand_stock_types")), _codes(config.get("in_transit_stock_types"))
        )
        self.page_size = int(config.get("page_size"))
        self.blocking = blocking_statuses(config.get("sales_blocking_statuses"))
        if self.page_size < 0:
            raise InvalidInput("config.page_size", self.page_size, "must be 0 or more")
        self._http: httpx.Client | None = None
        self._services: dict[str, ODataService] = {}

    def __repr__(self) -> str:
        return f"SapS4HanaConnector({self.system!r}, {self.config!r})"

    def _service(self, name: str) -> ODataService:
        if self._http is None:
            params = {"sap-client": str(self.config.get("sap_client"))}
            # The password is resolved here, when the first call needs it, and lives
            # only inside httpx's auth object (never in logs, repr or errors).
            self._http = self.config.http_client(
                self.system,
                base_url=str(self.config.get("base_url")).rstrip("/") + "/",
                auth=httpx.BasicAuth(str(self.config.get("user")), self.config.secret("password")),
                params=params if self.config.get("sap_client") else None,
                timeout=float(self.config.get("timeout_seconds")),
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
        language = str(self.config.get("language"))
        area = str(self.config.get("valuation_area") or "")
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
        values = {}
        for name in ("company_code", "purchasing_organization", "purchasing_group"):
            value = str(self.config.get(name) or "")
            if not value:
                raise InvalidInput(f"config.{name}", value, "is needed to create purchase orders")
            values[name] = value
        return PurchasingSettings(order_type=str(self.config.get("order_type")), **values)

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

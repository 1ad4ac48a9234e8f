"""Odoo (external API, JSON-2 or JSON-RPC) as item master, stock and purchase orders."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any, ClassVar

from promoflow.connectors.framework import (
    ConnectionCheck,
    ConnectorConfig,
    ConnectorContext,
    Manifest,
    timed_check,
)
from promoflow.connectors.odoo import diagnostics, mapping, purchasing, reading
from promoflow.connectors.odoo.client import (
    USER_AGENT,
    Json2Api,
    JsonRpcApi,
    OdooApi,
    OdooClient,
)
from promoflow.connectors.odoo.manifest import MANIFEST
from promoflow.connectors.odoo.reading import ANY_ACTIVE, CHUNK, pages
from promoflow.connectors.odoo.settings import OdooSettings
from promoflow.connectors.ports import (
    ItemRecord,
    PositionRecord,
    PurchaseOrderAck,
    PurchaseOrderCancellation,
    PurchaseOrderRequest,
    item_change,
)
from promoflow.connectors.stock import StockRow, sum_positions
from promoflow.kit.clock import utcnow
from promoflow.kit.sequences import chunked

QUANT_FIELDS = ["product_id", "location_id", "quantity", "reserved_quantity"]


class OdooConnector:
    """Products with an internal reference, quants of the mapped locations, and RFQs."""

    manifest: ClassVar[Manifest] = MANIFEST
    system_details = staticmethod(diagnostics.system_details)

    def __init__(self, config: ConnectorConfig, context: ConnectorContext) -> None:
        self.config = config
        self.system = context.name
        read = OdooSettings.read(config)
        self.protocol = read.protocol
        self.location_map = read.location_map
        http = config.http_client(
            self.system,
            timeout=read.timeout_seconds,
            transport=context.extras.get("transport"),
            headers={"Accept": "application/json", "User-Agent": USER_AGENT},
        )

        def api_key() -> str:
            return config.secret("api_key")

        api: OdooApi
        if self.protocol == "json2":
            api = Json2Api(
                self.system, http, base_url=read.base_url, database=read.database, api_key=api_key
            )
        else:
            api = JsonRpcApi(
                self.system,
                http,
                base_url=read.base_url,
                database=str(read.database),
                username=read.username,
                api_key=api_key,
            )
        self.client = OdooClient(self.system, context.guard, api, page_size=read.page_size)

    def __repr__(self) -> str:
        return f"OdooConnector({self.system!r}, {self.config!r})"

    def check_connection(self) -> ConnectionCheck:
        """Ask the version, then read one product with the configured credentials."""

        def probe() -> str:
            version = self.client.guarded("version", self.client.api.version)
            body = self.client.call(
                "product.product", "search_read", domain=[], fields=["id"], limit=1
            )
            mapping.records(self.system, body, "product.product.search_read")
            return f"Odoo {version} answers over {self.protocol}; product.product is readable"

        return timed_check(probe)

    def reported_version(self) -> str:
        """The version the server reports (`/web/version`, or `common.version` over JSON-RPC)."""
        return self.client.guarded("version", self.client.api.version)

    # ItemMaster / ItemStream

    def stream_items(self, since: datetime | None) -> Iterator[Sequence[ItemRecord]]:
        """Pages of products with an internal reference changed after `since`, archived too."""
        domain: list[Any] = [["default_code", "!=", False], ANY_ACTIVE]
        if since is not None:
            stamp = mapping.odoo_datetime(since)
            # a price or category change is written on the template, not the variant
            domain += ["|", ["write_date", ">", stamp], ["product_tmpl_id.write_date", ">", stamp]]
        for rows in pages(self.client, "product.product", domain, mapping.ITEM_FIELDS):
            yield mapping.item_page(self.system, rows, source=self.system)

    def changed_items(self, since: datetime | None) -> list[dict[str, object]]:
        """Item master records changed since a time (None = all)."""
        return [item_change(item) for page in self.stream_items(since) for item in page]

    # InventorySource / PositionStream

    def _quants(self, skus: dict[int, str], locations: dict[int, str]) -> list[StockRow]:
        rows: list[StockRow] = []
        for chunk in chunked(sorted(skus), CHUNK):
            domain = [["product_id", "in", list(chunk)], ["location_id", "in", sorted(locations)]]
            for page in pages(self.client, "stock.quant", domain, QUANT_FIELDS):
                rows.extend(mapping.quant_rows(self.system, page, skus=skus, locations=locations))
        return rows

    def fetch_positions(self, skus: list[str], location_codes: list[str]) -> list[PositionRecord]:
        """On hand and reserved per item x mapped location (0 where Odoo has no quant)."""
        if not skus or not location_codes:
            return []
        locations = reading.location_codes(self.client, self.location_map, location_codes)
        found: dict[int, str] = {}
        for chunk in chunked(sorted(set(skus)), CHUNK):
            domain = [["default_code", "in", list(chunk)], ANY_ACTIVE]
            for page in pages(self.client, "product.product", domain, ["id", "default_code"]):
                found.update(_sku_map(self.system, page))
        quants = self._quants(found, locations) if found and locations else []
        scope = [(sku, location) for sku in skus for location in location_codes]
        return sum_positions(quants, source=self.system, as_of=utcnow(), scope=scope)

    def stream_positions(
        self, location_codes: Sequence[str] | None = None
    ) -> Iterator[Sequence[PositionRecord]]:
        """Positions one page of products at a time: their quants summed per mapped location."""
        locations = reading.location_codes(self.client, self.location_map, location_codes)
        if not locations:
            return
        domain = [["default_code", "!=", False]]
        for rows in pages(self.client, "product.product", domain, ["id", "default_code"]):
            quants = self._quants(_sku_map(self.system, rows), locations)
            positions = sum_positions(quants, source=self.system, as_of=utcnow())
            if positions:
                yield positions

    # PurchaseOrderSystem

    def submit_purchase_order(self, key: str, order: PurchaseOrderRequest) -> str:
        """Create the order (an RFQ with its lines) once per order number; returns Odoo's name."""
        return purchasing.submit(self.client, self.location_map, order)

    def acknowledgements(self, numbers: list[str]) -> list[PurchaseOrderAck]:
        """Confirmed ('purchase', 'done') and cancelled orders among `numbers`."""
        return purchasing.acknowledgements(self.client, numbers)

    def cancel_purchase_order(self, key: str, number: str) -> PurchaseOrderCancellation:
        """Cancel our order while it is an RFQ; a confirmed one stays for the planner."""
        return purchasing.cancel(self.client, number)


def _sku_map(system: str, rows: Sequence[dict[str, Any]]) -> dict[int, str]:
    return {
        mapping.record_id(system, row): mapping.char(system, row, "default_code") for row in rows
    }

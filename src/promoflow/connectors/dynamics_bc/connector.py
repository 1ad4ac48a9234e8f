"""Microsoft Dynamics 365 Business Central (API v2.0, OData V4) as item master, stock and POs."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from typing import ClassVar

from promoflow.connectors.dynamics_bc import diagnostics, mapping
from promoflow.connectors.dynamics_bc.client import BusinessCentralClient
from promoflow.connectors.dynamics_bc.manifest import MANIFEST
from promoflow.connectors.dynamics_bc.oauth import ClientCredentials, ClientCredentialsAuth
from promoflow.connectors.dynamics_bc.purchasing import FILTER_CHUNK, PurchaseOrders
from promoflow.connectors.dynamics_bc.settings import BusinessCentralSettings
from promoflow.connectors.framework import (
    ConnectionCheck,
    ConnectorConfig,
    ConnectorContext,
    Manifest,
    timed_check,
)
from promoflow.connectors.odata import any_of, text
from promoflow.connectors.ports import (
    ItemRecord,
    PositionRecord,
    item_change,
)
from promoflow.connectors.stock import StockRow, sum_positions
from promoflow.kit.clock import utcnow
from promoflow.kit.sequences import chunked

ITEM_FIELDS = (
    "id,number,displayName,type,itemCategoryCode,blocked,gtin,unitPrice,unitCost,"
    "inventory,baseUnitOfMeasureCode,lastModifiedDateTime"
)
LEDGER_FIELDS = "entryNo,itemNo,locationCode,quantity"


def _odata_time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class BusinessCentralConnector(PurchaseOrders):
    """Items, ledger-derived positions and purchase orders of one Business Central company."""

    manifest: ClassVar[Manifest] = MANIFEST
    system_details = staticmethod(diagnostics.system_details)

    def __init__(self, config: ConnectorConfig, context: ConnectorContext) -> None:
        self.config = config
        self.system = context.name
        read = BusinessCentralSettings.read(config)
        self.purchase_unit = read.purchase_unit
        self.units_api = read.units_api
        self.auth = ClientCredentialsAuth(
            self.system,
            ClientCredentials(
                token_url=read.token_url,
                client_id=read.client_id,
                scope=read.scope,
                resolve_secret=lambda: config.secret("client_secret"),
            ),
        )
        self.client = BusinessCentralClient(
            self.system,
            context.guard,
            base_url=read.base_url,
            tenant_id=read.tenant_id,
            environment=read.environment,
            company_id=read.company_id,
            ledger_api=read.ledger_api,
            auth=self.auth,
            page_size=read.page_size,
            outbound=config.policy,
            timeout=read.timeout_seconds,
            transport=context.extras.get("transport"),
        )

    def __repr__(self) -> str:
        return f"BusinessCentralConnector({self.system!r}, {self.config!r})"

    def check_connection(self) -> ConnectionCheck:
        """Fetch the configured company (this also obtains a token)."""

        def probe() -> str:
            company = self.client.get(
                "check_connection", self.client.company_url, {"$select": "id,name"}
            )
            name = company.get("name") if isinstance(company, dict) else None
            return f"company {name!r} answers at {self.client.company_url}"

        return timed_check(probe)

    # ItemMaster / ItemStream

    def stream_items(self, since: datetime | None) -> Iterator[Sequence[ItemRecord]]:
        """Pages of items changed after `since` (all when None), as the server pages them."""
        params = {"$select": ITEM_FIELDS, "$orderby": "number"}
        if since is not None:
            params["$filter"] = f"lastModifiedDateTime gt {_odata_time(since)}"
        for rows in self.client.pages("items", self.client.entity_url("items"), params):
            yield mapping.item_page(self.system, rows, source=self.system)

    def changed_items(self, since: datetime | None) -> list[dict[str, object]]:
        """Item master records changed since a time (None = all)."""
        return [item_change(item) for page in self.stream_items(since) for item in page]

    # InventorySource / PositionStream

    def _ledger(self, skus: Sequence[str], location_codes: Sequence[str] | None) -> list[StockRow]:
        rows: list[StockRow] = []
        for chunk in chunked(list(skus), FILTER_CHUNK):
            where = any_of("itemNo", chunk)
            if location_codes:
                where += " and " + any_of("locationCode", location_codes)
            params = {"$select": LEDGER_FIELDS, "$filter": where}
            for page in self.client.pages("item_ledger_entries", self.client.ledger_url, params):
                rows.extend(mapping.ledger_rows(self.system, page))
        return rows

    def fetch_positions(self, skus: list[str], location_codes: list[str]) -> list[PositionRecord]:
        """On hand per item x location: the sum of its ledger entries (0 where there are none)."""
        if not skus or not location_codes:
            return []
        as_of = utcnow()
        rows = self._ledger(skus, location_codes)
        scope = [(sku, location) for sku in skus for location in location_codes]
        return sum_positions(rows, source=self.system, as_of=as_of, scope=scope)

    def stream_positions(
        self, location_codes: Sequence[str] | None = None
    ) -> Iterator[Sequence[PositionRecord]]:
        """Positions one page of items at a time: their ledger entries summed per location."""
        params = {"$select": "number", "$orderby": "number"}
        for rows in self.client.pages("items", self.client.entity_url("items"), params):
            skus = [text(self.system, row, "number") for row in rows]
            as_of = utcnow()
            positions = sum_positions(
                self._ledger(skus, location_codes), source=self.system, as_of=as_of
            )
            if positions:
                yield positions

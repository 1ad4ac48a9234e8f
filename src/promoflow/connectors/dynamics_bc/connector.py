"""Microsoft Dynamics 365 Business Central (API v2.0, OData V4) as item master, stock and POs."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from typing import ClassVar

from promoflow.connectors.dynamics_bc import mapping
from promoflow.connectors.dynamics_bc.client import BusinessCentralClient
from promoflow.connectors.dynamics_bc.oauth import ClientCredentials, ClientCredentialsAuth
from promoflow.connectors.dynamics_bc.purchasing import FILTER_CHUNK, PurchaseOrders
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

    manifest: ClassVar[Manifest] = Manifest(
        slug="dynamics-bc",
        name="Microsoft Dynamics 365 Business Central",
        kind="erp",
        protocol="OData V4 (Business Central API v2.0), OAuth 2.0 client credentials",
        capabilities=(Capability.ITEM_MASTER, Capability.INVENTORY, Capability.PURCHASE_ORDERS),
        config=(
            ConfigField("base_url", "url", default="https://api.businesscentral.dynamics.com"),
            ConfigField("tenant_id", description="Microsoft Entra tenant id or domain"),
            ConfigField("environment", default="production"),
            ConfigField("company_id", description="the company's id (GUID) from /companies"),
            ConfigField("client_id", description="the app registration's application id"),
            ConfigField("client_secret", secret=True, description="env:NAME or file:PATH"),
            ConfigField(
                "token_url",
                "url",
                required=False,
                description="defaults to login.microsoftonline.com/{tenant_id}/oauth2/v2.0/token",
            ),
            ConfigField("scope", default="https://api.businesscentral.dynamics.com/.default"),
            ConfigField(
                "ledger_api",
                default="microsoft/analytics/v1.0",
                description="API route whose itemLedgerEntries carry locationCode",
            ),
            ConfigField(
                "purchase_unit",
                required=False,
                default="",
                description="unit code lines are ordered in (e.g. BOX); blank: each item's "
                "base unit, the unit promoflow counts in",
            ),
            ConfigField(
                "units_api",
                required=False,
                default="",
                description="API route of a page publishing itemUnitsOfMeasure (table 5404: "
                "itemNo, code, qtyPerUnitOfMeasure); needed for purchase_unit and for "
                "acknowledged lines in a unit other than the base unit",
            ),
            ConfigField("page_size", "integer", default=500, minimum=1, maximum=20000),
            timeout_field(),
        ),
        description="Item master, inventory positions summed from item ledger entries, "
        "purchase orders created with their lines in one request.",
    )

    def __init__(self, config: ConnectorConfig, context: ConnectorContext) -> None:
        self.config = config
        self.system = context.name
        page_size = int(config.get("page_size"))
        self.purchase_unit = str(config.get("purchase_unit") or "").strip()
        self.units_api = str(config.get("units_api") or "").strip()
        tenant = str(config.get("tenant_id"))
        token_url = config.get("token_url") or (
            f"https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token"
        )
        self.auth = ClientCredentialsAuth(
            self.system,
            ClientCredentials(
                token_url=token_url,
                client_id=str(config.get("client_id")),
                scope=str(config.get("scope")),
                resolve_secret=lambda: config.secret("client_secret"),
            ),
        )
        self.client = BusinessCentralClient(
            self.system,
            context.guard,
            base_url=str(config.get("base_url")),
            tenant_id=tenant,
            environment=str(config.get("environment")),
            company_id=str(config.get("company_id")),
            ledger_api=str(config.get("ledger_api")),
            auth=self.auth,
            page_size=page_size,
            outbound=config.policy,
            timeout=float(config.get("timeout_seconds")),
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

"""The SAP connection's settings: OData root, client, plants, stock types, purchasing.

`SapSettings.read(config)` is the one typed reading (plants, stock types and the
sales-blocking statuses parsed and checked); the connector and its diagnostics
take their values from it. Purchasing settings are checked when a purchase order
is created, since a connection that only reads stock needs none.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from promoflow.connectors.framework import ConfigField, ConnectorConfig, timeout_field
from promoflow.connectors.sap.mapping import PlantLocations, StockTypes
from promoflow.connectors.sap.status import DEFAULT_BLOCKING, blocking_statuses
from promoflow.kit.errors import InvalidInput

FIELDS = (
    ConfigField("base_url", "url", description="OData root, e.g. https://host/sap/opu/odata/sap"),
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
)


def _codes(setting: Any) -> frozenset[str]:
    return frozenset(code.strip() for code in str(setting or "").split(",") if code.strip())


@dataclass(frozen=True)
class SapSettings:
    base_url: str
    user: str
    sap_client: str | None
    plants: PlantLocations
    stock_types: StockTypes
    language: str
    valuation_area: str
    page_size: int
    company_code: str
    purchasing_organization: str
    purchasing_group: str
    order_type: str
    blocking: frozenset[str]
    timeout_seconds: float

    @classmethod
    def read(cls, config: ConnectorConfig) -> SapSettings:
        plants = PlantLocations(str(config.get("plant_locations")))
        stock_types = StockTypes(
            _codes(config.get("on_hand_stock_types")), _codes(config.get("in_transit_stock_types"))
        )
        page_size = int(config.get("page_size"))
        blocking = blocking_statuses(config.get("sales_blocking_statuses"))
        if page_size < 0:
            raise InvalidInput("config.page_size", page_size, "must be 0 or more")
        return cls(
            base_url=str(config.get("base_url")).rstrip("/") + "/",
            user=str(config.get("user")),
            sap_client=str(config.get("sap_client")) if config.get("sap_client") else None,
            plants=plants,
            stock_types=stock_types,
            language=str(config.get("language")),
            valuation_area=str(config.get("valuation_area") or ""),
            page_size=page_size,
            company_code=str(config.get("company_code") or ""),
            purchasing_organization=str(config.get("purchasing_organization") or ""),
            purchasing_group=str(config.get("purchasing_group") or ""),
            order_type=str(config.get("order_type")),
            blocking=blocking,
            timeout_seconds=float(config.get("timeout_seconds")),
        )

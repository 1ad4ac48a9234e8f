"""What SAP Basis and support ask: the OData services, the sap-client, plants and user.

Each service is an SAP API Business Hub API on OData V2 (`/sap/opu/odata/sap/<service>`),
reached as the communication user in the configured client; the plant map and stock
types say which stock the connection reads.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from promoflow.connectors.framework import ConnectorConfig, SystemDetails

from .client import SERVICES
from .settings import SapSettings

SPEAKS = "OData V2 (SAP Gateway), SAP S/4HANA Cloud/on-premise APIs " + ", ".join(SERVICES)


def system_details(config: ConnectorConfig) -> SystemDetails:
    read = SapSettings.read(config)
    return SystemDetails(
        speaks=SPEAKS,
        details={
            "host": urlsplit(read.base_url).hostname,
            "odata_root": urlsplit(read.base_url).path,
            "services": list(SERVICES),
            "sap_client": read.sap_client,
            "user": read.user,
            "plants": dict(read.plants.by_plant),
            "storage_locations": {f"{p}/{s}": c for (p, s), c in read.plants.by_storage.items()},
            "stock_types": {
                "on_hand": sorted(read.stock_types.on_hand),
                "in_transit": sorted(read.stock_types.in_transit),
            },
            "language": read.language,
            "valuation_area": read.valuation_area or None,
            "sales_blocking_statuses": sorted(read.blocking),
            "purchasing": {
                "company_code": read.company_code or None,
                "purchasing_organization": read.purchasing_organization or None,
                "purchasing_group": read.purchasing_group or None,
                "order_type": read.order_type,
            },
            "page_size": read.page_size,
        },
    )

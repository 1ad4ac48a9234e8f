"""What Business Central support asks: API version, tenant, environment, company.

The routes are the ones the client calls (`api/v2.0` for items and purchase
orders, `ledger_api` for item ledger entries, `units_api` for units of measure),
so a ticket shows which published API pages the connection depends on.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from promoflow.connectors.framework import ConnectorConfig, SystemDetails

from .settings import BusinessCentralSettings

SPEAKS = "Business Central API v2.0 (OData V4), OAuth 2.0 client credentials (Microsoft Entra)"


def system_details(config: ConnectorConfig) -> SystemDetails:
    read = BusinessCentralSettings.read(config)
    return SystemDetails(
        speaks=SPEAKS,
        details={
            "api_host": urlsplit(read.base_url).hostname,
            "api_version": "v2.0",
            "tenant_id": read.tenant_id,
            "environment": read.environment,
            "company_id": read.company_id,
            "client_id": read.client_id,
            "token_host": urlsplit(read.token_url).hostname,
            "scope": read.scope,
            "ledger_api": read.ledger_api,
            "units_api": read.units_api or None,
            "purchase_unit": read.purchase_unit or "(each item's base unit)",
            "page_size": read.page_size,
        },
    )

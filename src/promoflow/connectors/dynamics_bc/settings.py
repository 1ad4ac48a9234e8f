"""The Business Central connection's settings: tenant, environment, company, OAuth client.

`BusinessCentralSettings.read(config)` is the one typed reading (the token URL
defaults from the tenant); the connector and its diagnostics take their values from it.
"""

from __future__ import annotations

from dataclasses import dataclass

from promoflow.connectors.framework import ConfigField, ConnectorConfig, timeout_field

FIELDS = (
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
)


@dataclass(frozen=True)
class BusinessCentralSettings:
    base_url: str
    tenant_id: str
    environment: str
    company_id: str
    client_id: str
    token_url: str
    scope: str
    ledger_api: str
    purchase_unit: str
    units_api: str
    page_size: int
    timeout_seconds: float

    @classmethod
    def read(cls, config: ConnectorConfig) -> BusinessCentralSettings:
        tenant = str(config.get("tenant_id"))
        return cls(
            base_url=str(config.get("base_url")),
            tenant_id=tenant,
            environment=str(config.get("environment")),
            company_id=str(config.get("company_id")),
            client_id=str(config.get("client_id")),
            token_url=str(
                config.get("token_url")
                or f"https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token"
            ),
            scope=str(config.get("scope")),
            ledger_api=str(config.get("ledger_api")),
            purchase_unit=str(config.get("purchase_unit") or "").strip(),
            units_api=str(config.get("units_api") or "").strip(),
            page_size=int(config.get("page_size")),
            timeout_seconds=float(config.get("timeout_seconds")),
        )

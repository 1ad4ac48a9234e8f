"""The Oracle Fusion connection's settings: pod URL, integration user, PO defaults, page size.

`OracleFusionSettings.read(config)` is the one typed reading; the connector and its
diagnostics take their values from it.
"""

from __future__ import annotations

from dataclasses import dataclass

from promoflow.connectors.framework import ConfigField, ConnectorConfig, timeout_field

# The most rows Fusion's REST framework serves in one page (a `limit` of 500 or
# more is answered with 499 rows and `hasMore`).
MAX_LIMIT = 499

FIELDS = (
    ConfigField("base_url", "url", description="https://<pod>.fa.<region>.oraclecloud.com"),
    ConfigField("username"),
    ConfigField("password", secret=True, description="env:NAME or file:PATH"),
    ConfigField("item_organization", description="the item master organization code"),
    ConfigField("procurement_bu", description="procurement business unit of new POs"),
    ConfigField("buyer", description="buyer of new POs, as Oracle names the person"),
    ConfigField("supplier_site", description="supplier site of new POs"),
    # Fusion serves at most 499 rows a page, whatever `limit` asks for.
    ConfigField("page_size", "integer", default=200, minimum=1, maximum=MAX_LIMIT),
    timeout_field(),
)


@dataclass(frozen=True)
class OracleFusionSettings:
    base_url: str
    username: str
    item_organization: str
    procurement_bu: str
    buyer: str
    supplier_site: str
    page_size: int
    timeout_seconds: float

    @classmethod
    def read(cls, config: ConnectorConfig) -> OracleFusionSettings:
        return cls(
            base_url=str(config.get("base_url")),
            username=str(config.get("username")),
            item_organization=str(config.get("item_organization")),
            procurement_bu=str(config.get("procurement_bu")),
            buyer=str(config.get("buyer")),
            supplier_site=str(config.get("supplier_site")),
            page_size=int(config.get("page_size")),
            timeout_seconds=float(config.get("timeout_seconds")),
        )

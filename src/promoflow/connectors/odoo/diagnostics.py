"""What Odoo support asks about a connection: protocol, database, user, mapped locations.

The version the server runs is not known without asking it; `promoflow
connectors diagnostics NAME --probe` asks (`OdooConnector.reported_version`).
"""

from __future__ import annotations

from promoflow.connectors.framework import ConnectorConfig, SystemDetails
from promoflow.connectors.odoo.settings import OdooSettings

SPEAKS = {
    "json2": "Odoo External JSON-2 API (Odoo 19+): POST /json/2/<model>/<method>, bearer API key",
    "jsonrpc": "Odoo External RPC API, JSON-RPC 2.0 on /jsonrpc (deprecated in 19, removed in 22)",
}


def system_details(config: ConnectorConfig) -> SystemDetails:
    """The protocol spoken and where the connection reads and writes (no secret)."""
    read = OdooSettings.read(config)
    return SystemDetails(
        speaks=SPEAKS[read.protocol],
        details={
            "base_url": read.base_url,
            "protocol": read.protocol,
            "database": read.database,
            "username": read.username or None,
            "mapped_locations": read.location_map,
            "page_size": read.page_size,
            "timeout_seconds": read.timeout_seconds,
        },
    )

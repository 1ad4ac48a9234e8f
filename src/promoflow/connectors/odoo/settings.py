"""The Odoo connection's settings: protocol choice, location map, page size.

`OdooSettings.read(config)` is the one typed reading of them; the connector and
its diagnostics take their values from it.
"""

from __future__ import annotations

from dataclasses import dataclass

from promoflow.connectors.framework import ConfigField, ConnectorConfig, timeout_field
from promoflow.kit.errors import InvalidInput

PROTOCOLS = ("json2", "jsonrpc")
MAX_PAGE_SIZE = 2000

FIELDS = (
    ConfigField("base_url", "url", description="https://<company>.odoo.com or your server"),
    ConfigField(
        "protocol",
        default="json2",
        description="json2 (Odoo 19+, /json/2 with a bearer API key) or jsonrpc (/jsonrpc)",
    ),
    ConfigField(
        "database",
        required=False,
        description="database name: sent as X-Odoo-Database (json2), required for jsonrpc",
    ),
    ConfigField("username", required=False, description="login of the API user (jsonrpc only)"),
    ConfigField(
        "api_key",
        secret=True,
        description="env:NAME or file:PATH: the user's API key (or password, jsonrpc only)",
    ),
    ConfigField(
        "location_map",
        description="Odoo location full names to our location codes: WH/Stock=DC01,SHOP1/Stock=S01",
    ),
    ConfigField("page_size", "integer", default=200, minimum=1, maximum=MAX_PAGE_SIZE),
    timeout_field(),
)


def protocol(config: ConnectorConfig) -> str:
    """`json2` or `jsonrpc`; JSON-RPC also needs the database and the user's login."""
    chosen = str(config.get("protocol")).strip().lower()
    if chosen not in PROTOCOLS:
        raise InvalidInput("config.protocol", chosen, "must be json2 or jsonrpc")
    if chosen == "jsonrpc":
        for name in ("database", "username"):
            if not str(config.get(name) or "").strip():
                raise InvalidInput(
                    f"config.{name}", config.get(name), "is required with protocol=jsonrpc"
                )
    return chosen


def location_map(text: str) -> dict[str, str]:
    """`WH/Stock=DC01,SHOP1/Stock=STORE01` as {Odoo location full name: our code}."""
    mapped: dict[str, str] = {}
    for pair in text.split(","):
        if not pair.strip():
            continue
        name, sep, code = pair.rpartition("=")
        name, code = name.strip(), code.strip()
        if not sep or not name or not code:
            raise InvalidInput(
                "config.location_map", pair, "each entry is <Odoo location full name>=<our code>"
            )
        if name in mapped:
            raise InvalidInput("config.location_map", name, "an Odoo location is mapped twice")
        mapped[name] = code
    if not mapped:
        raise InvalidInput("config.location_map", text, "map at least one Odoo location")
    return mapped


@dataclass(frozen=True)
class OdooSettings:
    """One connection's settings, checked and typed (the API key stays a reference)."""

    base_url: str
    protocol: str
    database: str | None
    username: str
    location_map: dict[str, str]
    page_size: int
    timeout_seconds: float

    @classmethod
    def read(cls, config: ConnectorConfig) -> OdooSettings:
        return cls(
            base_url=str(config.get("base_url")),
            protocol=protocol(config),
            database=str(config.get("database") or "").strip() or None,
            username=str(config.get("username") or "").strip(),
            location_map=location_map(str(config.get("location_map"))),
            page_size=int(config.get("page_size")),
            timeout_seconds=float(config.get("timeout_seconds")),
        )

"""A scripted ERP connector for the framework's own tests (not a fake of a vendor).

It exercises what every connector goes through (config with a secret reference,
connection test, Guard, streaming pages, quarantine) with pages a test writes.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any, ClassVar

from promoflow.connectors.framework import (
    Capability,
    ConfigField,
    ConnectionCheck,
    ConnectorConfig,
    ConnectorContext,
    Manifest,
    timed_check,
)
from promoflow.connectors.ports import (
    ConnectorUnavailable,
    MalformedPayload,
    PositionRecord,
    SalesRecord,
)

SECRET_ENV = "PROMOFLOW_TEST_ERP_PASSWORD"
SECRET_VALUE = "s3cr3t-hunter2-value"


@dataclass
class Script:
    """What the scripted ERP answers: pages of raw rows, or that it is down."""

    pages: list[list[dict[str, Any]]] = field(default_factory=list)
    sales: list[SalesRecord] = field(default_factory=list)
    sales_asked: list[tuple[list[str], list[str], date, date]] = field(default_factory=list)
    down: bool = False
    calls: int = 0


SCRIPT = Script()


def position_row(sku: str, location: str, on_hand: Any) -> dict[str, Any]:
    return {"Material": sku, "Plant": location, "Quantity": on_hand}


def _map(system: str, page: list[dict[str, Any]]) -> list[PositionRecord]:
    records = []
    for index, row in enumerate(page):
        quantity = row.get("Quantity")
        try:
            on_hand = float(quantity)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            raise MalformedPayload(
                system,
                f"row {index}: Quantity is not a number",
                payload={"rows": page},
                field=f"rows[{index}].Quantity",
                value=quantity,
            ) from None
        records.append(
            PositionRecord(
                sku=row["Material"],
                location_code=row["Plant"],
                on_hand=on_hand,
                on_order=0.0,
                in_transit=0.0,
                allocated=0.0,
                as_of=datetime(2026, 11, 27, tzinfo=UTC),
                source=system,
            )
        )
    return records


class ScriptedErp:
    manifest: ClassVar[Manifest] = Manifest(
        slug="scripted-erp",
        name="Scripted ERP (tests)",
        kind="erp",
        protocol="scripted",
        capabilities=(Capability.INVENTORY, Capability.ITEM_MASTER, Capability.SALES_FEED),
        config=(
            ConfigField("base_url", "url"),
            ConfigField("user"),
            ConfigField("password", secret=True),
            ConfigField(
                "page_size", "integer", required=False, default=100, minimum=1, maximum=10000
            ),
        ),
    )

    def __init__(self, config: ConnectorConfig, context: ConnectorContext) -> None:
        self.system = context.name
        self._config = config
        self._guard = context.guard

    def _login(self) -> None:
        if self._config.secret("password") != SECRET_VALUE:
            raise ConnectorUnavailable(self.system, "401 Unauthorized", retryable=False)

    def check_connection(self) -> ConnectionCheck:
        def probe() -> str:
            self._login()
            if SCRIPT.down:
                raise ConnectorUnavailable(self.system, "connection refused")
            return f"logged in as {self._config.get('user')}"

        return timed_check(probe)

    def _page(self, index: int) -> list[dict[str, Any]]:
        SCRIPT.calls += 1
        if SCRIPT.down:
            raise ConnectorUnavailable(self.system, "connection refused")
        return SCRIPT.pages[index]

    def fetch_positions(self, skus: list[str], location_codes: list[str]) -> list[PositionRecord]:
        return [
            r
            for page in self.stream_positions()
            for r in page
            if r.sku in skus and r.location_code in location_codes
        ]

    def stream_positions(
        self, location_codes: Sequence[str] | None = None
    ) -> Iterator[Sequence[PositionRecord]]:
        self._login()
        for index in range(len(SCRIPT.pages)):
            raw = self._guard.call("positions_page", lambda i=index: self._page(i))
            yield _map(self.system, raw)

    def changed_items(self, since: datetime | None) -> list[dict[str, object]]:
        return []

    def sales(
        self, skus: list[str], location_codes: list[str], start: date, end: date
    ) -> list[SalesRecord]:
        SCRIPT.sales_asked.append((skus, location_codes, start, end))
        return [s for s in SCRIPT.sales if s.sku in skus and s.location_code in location_codes]


ROLE_KEYS = {
    role: f"key-integration-{role}-0123456789"
    for role in ("operations_admin", "integration_client", "merchandiser", "auditor")
}


def as_role(role: str) -> dict[str, str]:
    """Request headers authenticating as `role` against the `api` fixture's app."""
    return {"X-API-Key": ROLE_KEYS[role]}

"""The sandbox estate as a connector: listed, tested and synced like any real system.

Without configuration the registry already answers every port from the sandbox
systems; this class lets an operator also add the estate as a connection (to try
`promoflow connectors test|sync` before wiring a real ERP) and streams its stock
and item master page by page like the real adapters do.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import replace
from datetime import datetime
from decimal import Decimal
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
from promoflow.connectors.ports import ItemRecord, PositionRecord
from promoflow.connectors.sandbox import repository
from promoflow.connectors.sandbox.erp import SandboxItemMaster
from promoflow.connectors.sandbox.wms import SandboxWms, _record


class SandboxConnector:
    """The simulated WMS and ERP of the sandbox estate."""

    manifest: ClassVar[Manifest] = Manifest(
        slug="sandbox",
        name="Sandbox estate",
        kind="sandbox",
        protocol="in-database simulation",
        capabilities=(Capability.INVENTORY, Capability.ITEM_MASTER),
        config=(
            ConfigField(
                "page_size",
                "integer",
                required=False,
                default=5000,
                description="Positions per page when streaming stock.",
                minimum=1,
                maximum=100_000,
            ),
        ),
        description="The seeded retailer's simulated systems; no credentials needed.",
    )

    def __init__(self, config: ConnectorConfig, context: ConnectorContext) -> None:
        if context.sessions is None:
            raise ValueError("the sandbox connector lives in promoflow's database: pass sessions")
        self.system = context.name
        self._context = context
        self._sessions = context.sessions
        self._page_size = int(config.get("page_size"))
        self._wms = SandboxWms(context.sessions)
        self._erp = SandboxItemMaster(context.sessions)

    def check_connection(self) -> ConnectionCheck:
        def probe() -> str:
            with self._sessions() as session:
                count = repository.stock_count(session)
            return f"sandbox WMS answers: {count} stock rows"

        return timed_check(probe)

    def fetch_positions(self, skus: list[str], location_codes: list[str]) -> list[PositionRecord]:
        return self._context.guard.call(
            "fetch_positions", lambda: self._wms.fetch_positions(skus, location_codes)
        )

    def stream_positions(
        self, location_codes: Sequence[str] | None = None
    ) -> Iterator[Sequence[PositionRecord]]:
        """Keyset pages over (location, sku), so a page costs the same wherever it starts."""
        after: tuple[str, str] = ("", "")
        while True:

            def page(start: tuple[str, str] = after) -> list[PositionRecord]:
                with self._sessions() as session:
                    rows = repository.stock_page(session, start, self._page_size, location_codes)
                    return [_record(row) for row in rows]

            rows = self._context.guard.call("stream_positions", page)
            if not rows:
                return
            yield [replace(r, source=self.system) for r in rows]
            after = (rows[-1].location_code, rows[-1].sku)

    def changed_items(self, since: datetime | None) -> list[dict[str, object]]:
        return self._context.guard.call("changed_items", lambda: self._erp.changed_items(since))

    def stream_items(self, since: datetime | None) -> Iterator[Sequence[ItemRecord]]:
        records = self.changed_items(since)
        for start in range(0, len(records), self._page_size):
            yield [_item(r, self.system) for r in records[start : start + self._page_size]]


def _item(record: dict[str, Any], source: str) -> ItemRecord:
    return ItemRecord(
        sku=str(record["sku"]),
        name=str(record["name"]),
        status=str(record["status"]),
        department=str(record.get("department") or ""),
        category=str(record.get("category") or ""),
        subcategory=str(record.get("subcategory") or ""),
        brand=str(record.get("brand") or ""),
        unit_cost=Decimal(str(record["unit_cost"])),
        regular_price=Decimal(str(record["regular_price"])),
        case_pack=int(record["case_pack"]),
        supplier_code=record.get("supplier_code"),
        source=source,
    )

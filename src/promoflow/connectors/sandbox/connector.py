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
from typing import ClassVar

from promoflow.connectors.framework import (
    ConnectionCheck,
    ConnectorConfig,
    ConnectorContext,
    Manifest,
    timed_check,
)
from promoflow.connectors.ports import ItemRecord, PositionRecord
from promoflow.connectors.sandbox import diagnostics, repository
from promoflow.connectors.sandbox.erp import SandboxItemMaster
from promoflow.connectors.sandbox.manifest import MANIFEST
from promoflow.connectors.sandbox.mapping import item_record, position_record
from promoflow.connectors.sandbox.settings import SandboxSettings
from promoflow.connectors.sandbox.wms import SandboxWms


class SandboxConnector:
    """The simulated WMS and ERP of the sandbox estate."""

    manifest: ClassVar[Manifest] = MANIFEST
    system_details = staticmethod(diagnostics.system_details)

    def __init__(self, config: ConnectorConfig, context: ConnectorContext) -> None:
        if context.sessions is None:
            raise ValueError("the sandbox connector lives in promoflow's database: pass sessions")
        self.system = context.name
        self._context = context
        self._sessions = context.sessions
        self._page_size = SandboxSettings.read(config).page_size
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
                    return [position_record(row) for row in rows]

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
            yield [item_record(r, self.system) for r in records[start : start + self._page_size]]

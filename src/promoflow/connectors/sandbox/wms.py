"""Sandbox warehouse-management system: stock by SKU and location, replenishment arrivals."""

from __future__ import annotations

import hashlib

from sqlalchemy.orm import Session, sessionmaker

from promoflow.connectors.ports import PositionRecord
from promoflow.connectors.sandbox import repository
from promoflow.connectors.sandbox.client import Rejected, SandboxSystem
from promoflow.connectors.sandbox.mapping import position_record
from promoflow.connectors.sandbox.models import SandboxStock
from promoflow.kit.clock import utcnow
from promoflow.kit.db import transaction
from promoflow.kit.errors import InvalidInput

SYSTEM = "sandbox-wms"
IN_CHUNK = 400


def request_key(skus: list[str], location_codes: list[str]) -> str:
    """A stable name for a read, so injected errors hit the same reads every run."""
    text = ",".join(sorted(skus)) + "|" + ",".join(sorted(location_codes))
    return f"positions-{hashlib.sha256(text.encode()).hexdigest()[:16]}"


class SandboxWms(SandboxSystem):
    """Answers inventory-position queries from `sandbox_stock`."""

    system = SYSTEM
    reference_prefix = "WMS"

    def fetch_positions(self, skus: list[str], location_codes: list[str]) -> list[PositionRecord]:
        """Current inventory positions for the given item x location scope."""
        key = request_key(skus, location_codes)

        def apply(session: Session) -> list[PositionRecord]:
            found: list[PositionRecord] = []
            sku_list, code_list = sorted(set(skus)), sorted(set(location_codes))
            for i in range(0, len(sku_list), IN_CHUNK):
                for j in range(0, len(code_list), IN_CHUNK):
                    rows = repository.stock_rows(
                        session, sku_list[i : i + IN_CHUNK], code_list[j : j + IN_CHUNK]
                    )
                    found.extend(position_record(row) for row in rows)
            self.record(session, "fetch_positions", key, "applied", f"{len(found)} positions")
            return found

        return self.call("fetch_positions", key, apply)

    def transfer_stock(
        self, key: str, transfers: list[tuple[str, str, str, float]]
    ) -> list[PositionRecord]:
        """Ship (sku, from, to, units) once per key; returns the positions it touched.

        The source's on hand falls at once and the destination's in transit rises (the
        goods are on the truck); a repeated key ships nothing and reports the positions
        as they stand. A source without the units on hand refuses the whole transfer.
        """

        def apply(session: Session) -> list[PositionRecord]:
            touched = sorted(
                {(sku, code) for sku, source, target, _ in transfers for code in (source, target)}
            )
            if self.first_receipt(session, "transfer_stock", key) is not None:
                self.record(session, "transfer_stock", key, "duplicate")
                return [position_record(_stock_row(session, sku, code)) for sku, code in touched]
            leaving: dict[tuple[str, str], float] = {}
            for index, (sku, source, target, units) in enumerate(transfers):
                if units <= 0 or source == target:
                    raise Rejected(
                        f"line {index} ({sku} {source}->{target}, {units:g} units) must move "
                        "a positive quantity between two locations"
                    )
                leaving[(sku, source)] = leaving.get((sku, source), 0.0) + float(units)
            for (sku, source), units in sorted(leaving.items()):
                row = _stock_row(session, sku, source)
                if row.on_hand + 1e-9 < units:
                    raise Rejected(
                        f"{source} has {row.on_hand:g} units of {sku} on hand; the transfer "
                        f"needs {units:g}"
                    )
            now = utcnow()
            for sku, source, target, units in transfers:
                origin, destination = (
                    _stock_row(session, sku, source),
                    _stock_row(session, sku, target),
                )
                origin.on_hand -= float(units)
                destination.in_transit += float(units)
                origin.updated_at = destination.updated_at = now
            session.flush()
            self.new_receipt(session, "transfer_stock", key, len(transfers))
            moved = sum(float(units) for *_, units in transfers)
            self.record(
                session,
                "transfer_stock",
                key,
                "applied",
                f"{len(transfers)} lines, {moved:g} units",
            )
            return [position_record(_stock_row(session, sku, code)) for sku, code in touched]

        return self.call("transfer_stock", key, apply)


def _stock_row(session: Session, sku: str, location_code: str) -> SandboxStock:
    """The WMS's row for one position, created empty on first touch."""
    row = session.get(SandboxStock, (sku, location_code))
    if row is None:
        row = SandboxStock(
            sku=sku,
            location_code=location_code,
            on_hand=0.0,
            on_order=0.0,
            in_transit=0.0,
            allocated=0.0,
        )
        session.add(row)
    return row


def receive_stock(
    sessions: sessionmaker[Session], sku: str, location_code: str, quantity: float
) -> PositionRecord:
    """A replenishment arrives: on hand rises, and what was in transit for it lands.

    The caller (the app) applies the returned position to its inventory_positions.
    """
    if quantity <= 0:
        raise InvalidInput("quantity", quantity, "a receipt must be a positive quantity")
    with transaction(sessions) as session:
        row = _stock_row(session, sku, location_code)
        landed = min(row.in_transit, quantity)
        row.in_transit -= landed
        # Anything beyond what was in transit came off an open order.
        row.on_order = max(0.0, row.on_order - (quantity - landed))
        row.on_hand += quantity
        row.updated_at = utcnow()
        session.flush()
        return position_record(row)


def set_stock(
    sessions: sessionmaker[Session],
    sku: str,
    location_code: str,
    *,
    on_hand: float | None = None,
    on_order: float | None = None,
    in_transit: float | None = None,
    allocated: float | None = None,
) -> PositionRecord:
    """Overwrite the WMS's figures for one position (scenario set-up: low cover, etc.)."""
    values = {
        "on_hand": on_hand,
        "on_order": on_order,
        "in_transit": in_transit,
        "allocated": allocated,
    }
    for name, value in values.items():
        if value is not None and value < 0:
            raise InvalidInput(name, value, "stock figures cannot be negative")
    with transaction(sessions) as session:
        row = _stock_row(session, sku, location_code)
        for name, value in values.items():
            if value is not None:
                setattr(row, name, float(value))
        row.updated_at = utcnow()
        session.flush()
        return position_record(row)

"""Inbound facts from source systems: inventory positions in batches, sales arrivals.

Connectors, EDI 846 files, flat-file drops and inbound messages hand their position
updates to `apply_inventory_batches`: one transaction, one set-based upsert and one
`inventory.positions.changed` event per batch. A batch with a bad record is refused
whole (nothing of it written) and quarantined with the reason naming the record,
field and value; the other batches still apply. Its replayer re-applies the stored
batch once the cause is fixed (say the unknown SKU was added to the item master).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict
from datetime import date, datetime
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from promoflow.catalog import service as catalog_service
from promoflow.connectors.ports import PositionRecord, SalesRecord
from promoflow.events.schemas import InboundResult
from promoflow.events.service import record_event
from promoflow.integration.deadletters import quarantine, register_replayer
from promoflow.integration.models import DeadLetter
from promoflow.inventory.service import apply_positions
from promoflow.kit.db import transaction
from promoflow.kit.errors import InvalidInput

APPLY_POSITIONS = "inventory.apply_positions"
DEFAULT_BATCH = 5000
__all__ = [
    "APPLY_POSITIONS",
    "InboundResult",
    "apply_inventory_batches",
    "register_position_replayer",
    "replay_positions",
    "report_sales",
]


def apply_inventory_batches(
    sessions: sessionmaker[Session],
    records: Sequence[PositionRecord],
    source: str,
    *,
    batch_size: int = DEFAULT_BATCH,
) -> InboundResult:
    """Apply position updates in batches of `batch_size`, each all or nothing."""
    if batch_size < 1:
        raise InvalidInput("batch_size", batch_size, "must be at least 1")
    result = InboundResult()
    for start in range(0, len(records), batch_size):
        batch = records[start : start + batch_size]
        try:
            with transaction(sessions) as session:
                result.applied += apply_positions(session, batch, source)
            result.batches += 1
        except InvalidInput as error:
            reason = f"batch from record {start}: {error.message}"
            result.errors.append(reason)
            result.quarantined.append(
                quarantine(
                    sessions,
                    source=source,
                    operation=APPLY_POSITIONS,
                    payload={"source": source, "records": [_record_json(r) for r in batch]},
                    reason=reason,
                    key=f"{source}:{start}",
                )
            )
    return result


def _record_json(record: PositionRecord) -> dict[str, Any]:
    data = asdict(record)
    data["as_of"] = record.as_of.isoformat() if isinstance(record.as_of, datetime) else None
    return data


def _record_from_json(index: int, data: dict[str, Any]) -> PositionRecord:
    try:
        return PositionRecord(**{**data, "as_of": datetime.fromisoformat(data["as_of"])})
    except (TypeError, ValueError, KeyError) as error:
        raise InvalidInput(f"records[{index}]", data, f"not a position record: {error}") from error


def replay_positions(sessions: sessionmaker[Session], letter: DeadLetter) -> str:
    """Re-apply a quarantined batch as one transaction (InvalidInput if still bad)."""
    source = str(letter.payload["source"])
    records = [_record_from_json(i, r) for i, r in enumerate(letter.payload["records"])]
    with transaction(sessions) as session:
        applied = apply_positions(session, records, source)
    return f"{applied} position(s) from {source} applied"


def register_position_replayer(sessions: sessionmaker[Session]) -> None:
    """Make quarantined position batches replayable against this database."""
    register_replayer(APPLY_POSITIONS, lambda letter: replay_positions(sessions, letter))


def report_sales(session: Session, records: Sequence[SalesRecord], source: str) -> int:
    """Say that point-of-sale actuals arrived: one `sales.reported` event for the batch.

    The sales themselves stay in the sales feed; live monitoring reads them from there.
    Unknown SKUs or stores are refused by index, field and value.
    """
    if not records:
        return 0
    skus = {r.sku for r in records}
    codes = {r.location_code for r in records}
    item_ids = catalog_service.item_ids_by_sku(session, skus)
    location_ids = catalog_service.location_ids_by_code(session, codes)
    for index, record in enumerate(records):
        if record.sku not in item_ids:
            raise InvalidInput(f"records[{index}].sku", record.sku, "unknown item")
        if record.location_code not in location_ids:
            raise InvalidInput(
                f"records[{index}].location_code", record.location_code, "unknown location"
            )
        if record.units < 0:
            raise InvalidInput(f"records[{index}].units", record.units, "cannot be negative")
    days: list[date] = sorted({r.day for r in records})
    record_event(
        session,
        "sales.reported",
        f"sales/{source}",
        {
            "source": source,
            "count": len(records),
            "item_ids": sorted({item_ids[r.sku] for r in records}),
            "location_ids": sorted({location_ids[r.location_code] for r in records}),
            "first_day": days[0].isoformat(),
            "last_day": days[-1].isoformat(),
        },
    )
    return len(records)

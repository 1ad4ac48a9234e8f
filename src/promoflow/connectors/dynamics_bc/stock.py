"""Positions summed from stock rows (ledger entries, on-hand balances), one item page at a time.

Shared by the Business Central and Oracle Fusion connectors: both read rows that
each carry part of an item x location's stock and must add them up. Summing
per page of items (not over a whole ledger sorted server-side) keeps memory to
one page and does not depend on the server's collation agreeing with Python's.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from promoflow.connectors.ports import PositionRecord


@dataclass(frozen=True)
class StockRow:
    """One row's contribution to an item x location's on-hand quantity."""

    sku: str
    location_code: str
    quantity: float


def sum_positions(
    rows: Iterable[StockRow],
    *,
    source: str,
    as_of: datetime,
    scope: Sequence[tuple[str, str]] = (),
) -> list[PositionRecord]:
    """One position per item x location in the rows, and a zero one per `scope` pair without."""
    totals: dict[tuple[str, str], float] = {pair: 0.0 for pair in scope}
    for row in rows:
        key = (row.sku, row.location_code)
        totals[key] = totals.get(key, 0.0) + row.quantity
    return [
        PositionRecord(
            sku=sku,
            location_code=location,
            on_hand=on_hand,
            on_order=0.0,
            in_transit=0.0,
            allocated=0.0,
            as_of=as_of,
            source=source,
        )
        for (sku, location), on_hand in sorted(totals.items())
    ]

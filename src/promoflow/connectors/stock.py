"""Positions summed from stock rows (ledger entries, balances, quants), one item page at a time.

Shared by the Business Central, Oracle Fusion and Odoo connectors: each reads
rows that carry part of an item x location's stock and must add them up. Summing
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
    """One row's contribution to an item x location's on-hand (and reserved) quantity."""

    sku: str
    location_code: str
    quantity: float
    reserved: float = 0.0  # counted as allocated (Odoo's reserved_quantity)


def sum_positions(
    rows: Iterable[StockRow],
    *,
    source: str,
    as_of: datetime,
    scope: Sequence[tuple[str, str]] = (),
) -> list[PositionRecord]:
    """One position per item x location in the rows, and a zero one per `scope` pair without."""
    totals: dict[tuple[str, str], list[float]] = {pair: [0.0, 0.0] for pair in scope}
    for row in rows:
        total = totals.setdefault((row.sku, row.location_code), [0.0, 0.0])
        total[0] += row.quantity
        total[1] += row.reserved
    return [
        PositionRecord(
            sku=sku,
            location_code=location,
            on_hand=on_hand,
            on_order=0.0,
            in_transit=0.0,
            allocated=reserved,
            as_of=as_of,
            source=source,
        )
        for (sku, location), (on_hand, reserved) in sorted(totals.items())
    ]

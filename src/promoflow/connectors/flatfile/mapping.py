"""Checked rows -> canonical records, and promotion prices -> the export file's rows."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from typing import Any

import polars as pl

from promoflow.connectors.ports import ItemRecord, PositionRecord, PriceChange, SalesRecord

EXPORT_COLUMNS = (
    "key",
    "action",
    "sku",
    "location_code",
    "channel",
    "price",
    "regular_price",
    "start",
    "end",
)
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def item(row: dict[str, Any], source: str) -> ItemRecord:
    return ItemRecord(
        sku=row["sku"],
        name=row["name"],
        status=row["status"],
        department=row["department"],
        category=row["category"],
        subcategory=row["subcategory"],
        brand=row["brand"],
        unit_cost=row["unit_cost"],
        regular_price=row["regular_price"],
        case_pack=row["case_pack"],
        gtin=row["gtin"],
        supplier_code=row["supplier_code"],
        source=source,
    )


def position(row: dict[str, Any], source: str) -> PositionRecord:
    return PositionRecord(
        sku=row["sku"],
        location_code=row["location_code"],
        on_hand=row["on_hand"],
        on_order=row["on_order"],
        in_transit=row["in_transit"],
        allocated=row["allocated"],
        as_of=row["as_of"],
        source=source,
    )


def sale(row: dict[str, Any]) -> SalesRecord:
    return SalesRecord(
        sku=row["sku"],
        location_code=row["location_code"],
        day=row["day"],
        units=row["units"],
        revenue=row["revenue"],
    )


def export_name(action: str, key: str) -> str:
    """`promo_prices_<key>_<hash>.csv`: readable, safe on every file system, unique per key."""
    digest = hashlib.sha256(key.encode()).hexdigest()[:12]
    readable = _UNSAFE.sub("-", key).strip("-")[:80]
    prefix = "promo_prices" if action == "publish" else "promo_prices_revert"
    return f"{prefix}_{readable}_{digest}.csv" if readable else f"{prefix}_{digest}.csv"


def export_frame(key: str, action: str, changes: Sequence[PriceChange]) -> pl.DataFrame:
    """The rows of a publish or revert file; money as plain decimal text, dates ISO."""
    rows = [
        {
            "key": key,
            "action": action,
            "sku": c.sku,
            "location_code": c.location_code,
            "channel": c.channel,
            "price": str(c.price),
            "regular_price": str(c.regular_price),
            "start": c.start.isoformat(),
            "end": c.end.isoformat(),
        }
        for c in changes
    ]
    return pl.DataFrame(rows, schema=dict.fromkeys(EXPORT_COLUMNS, pl.String))

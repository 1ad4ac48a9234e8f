"""Sandbox rows as the ports' records: stock rows as positions, item changes as items.

The simulated systems answer in their own rows (`sandbox_stock`) and dictionaries
(the ERP's item changes); these are the only places that turn them into what the
ports promise, as each real connector's mapping does with its vendor's payloads.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from promoflow.connectors.ports import ItemRecord, PositionRecord
from promoflow.connectors.sandbox.faults import as_utc
from promoflow.connectors.sandbox.models import SandboxStock

WMS = "sandbox-wms"


def position_record(row: SandboxStock) -> PositionRecord:
    """One stock row as the WMS reports it (source: the sandbox WMS)."""
    return PositionRecord(
        sku=row.sku,
        location_code=row.location_code,
        on_hand=row.on_hand,
        on_order=row.on_order,
        in_transit=row.in_transit,
        allocated=row.allocated,
        as_of=as_utc(row.updated_at),
        source=WMS,
    )


def item_record(record: dict[str, Any], source: str) -> ItemRecord:
    """One item change of the sandbox ERP as an item master record."""
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

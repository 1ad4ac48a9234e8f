"""Which of our SKUs an EDI line means, and how we name our items to a supplier.

Suppliers identify items by GTIN/UPC (X12 UP/EN/UK/UA, EDIFACT EN/UP/SRV), by
their own number (VN/VP, EDIFACT SA) or by ours (IN buyer's item, BP buyer's
part). Ours is taken as the SKU directly; the others go through the partner's
item crosswalk, a CSV with the columns sku,gtin,vendor_item. GTINs are compared as
GTIN-14 (left-padded with zeros), so a 12-digit UPC matches its 13-digit EAN.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from promoflow.connectors.edi.documents import Malformed, Segment
from promoflow.kit.errors import InvalidInput

BUYER_QUALIFIERS = frozenset({"IN", "BP"})
GTIN_QUALIFIERS = frozenset({"UP", "EN", "UK", "UA", "SRV", "EU"})
VENDOR_QUALIFIERS = frozenset({"VN", "VP", "SA"})
CROSSWALK_COLUMNS = ("sku", "gtin", "vendor_item")


def gtin14(value: str) -> str | None:
    """The GTIN-14 form of a GTIN-8/12/13/14, or None when the value is not one."""
    digits = value.strip()
    if not digits.isdigit() or len(digits) not in (8, 12, 13, 14):
        return None
    return digits.zfill(14)


@dataclass(frozen=True)
class ItemId:
    """One identifier on a line and where it stood (for error messages)."""

    qualifier: str
    value: str
    segment: Segment
    position: int
    component: int = 1


@dataclass(frozen=True)
class CrosswalkEntry:
    sku: str
    gtin: str | None
    vendor_item: str | None


class Crosswalk:
    """Our SKUs against the supplier's GTINs and item numbers."""

    def __init__(self, entries: Sequence[CrosswalkEntry] = ()) -> None:
        self._by_sku = {e.sku: e for e in entries}
        self._by_gtin = {g: e.sku for e in entries if e.gtin and (g := gtin14(e.gtin))}
        self._by_vendor = {e.vendor_item: e.sku for e in entries if e.vendor_item}

    @classmethod
    def load(cls, path: Path, setting: str = "config.item_crosswalk") -> Crosswalk:
        """Read the CSV; InvalidInput naming the row and column when it cannot be used."""
        try:
            with path.open(newline="", encoding="utf-8") as handle:
                rows = list(csv.DictReader(handle))
                header = rows[0].keys() if rows else set()
        except OSError as error:
            raise InvalidInput(setting, str(path), f"cannot be read: {error}") from None
        missing = [c for c in CROSSWALK_COLUMNS if rows and c not in header]
        if missing:
            raise InvalidInput(
                setting, str(path), f"needs the columns {', '.join(CROSSWALK_COLUMNS)}"
            )
        entries: list[CrosswalkEntry] = []
        for line, row in enumerate(rows, start=2):
            sku = (row.get("sku") or "").strip()
            gtin = (row.get("gtin") or "").strip() or None
            if not sku:
                raise InvalidInput(f"{setting} line {line}", row.get("sku"), "sku is empty")
            if gtin is not None and gtin14(gtin) is None:
                raise InvalidInput(
                    f"{setting} line {line}", gtin, "gtin must be 8, 12, 13 or 14 digits"
                )
            vendor = (row.get("vendor_item") or "").strip() or None
            entries.append(CrosswalkEntry(sku, gtin, vendor))
        return cls(entries)

    def entry(self, sku: str) -> CrosswalkEntry | None:
        return self._by_sku.get(sku)

    def resolve(
        self, ids: Sequence[ItemId], line: Segment, malformed: Malformed
    ) -> tuple[str, str | None]:
        """(our SKU, the GTIN the partner sent if any), or MalformedPayload naming the item."""
        gtin = next((i.value for i in ids if i.qualifier in GTIN_QUALIFIERS and i.value), None)
        for item in ids:
            if item.qualifier in BUYER_QUALIFIERS and item.value:
                return item.value, gtin
        for item in ids:
            if item.qualifier in GTIN_QUALIFIERS and item.value:
                key = gtin14(item.value)
                if key is None:
                    raise malformed.at(
                        item.segment,
                        item.position,
                        "a GTIN/UPC must be 8-14 digits",
                        item.component,
                    )
                if key in self._by_gtin:
                    return self._by_gtin[key], gtin
        for item in ids:
            if item.qualifier in VENDOR_QUALIFIERS and item.value in self._by_vendor:
                return self._by_vendor[item.value], gtin
        if not ids:
            raise malformed.at(line, 1, "the line identifies no item")
        first = ids[0]
        raise malformed.at(
            first.segment,
            first.position,
            "no SKU for this item: send our item number (IN/BP) or add its GTIN or "
            "vendor item number to the partner's item crosswalk",
            first.component,
        )

"""EDIFACT messages <-> canonical records (INVRPT, PRICAT, SLSRPT in; SLSRPT out).

Written against the D96A EANCOM subsets suppliers send (INVRPT EAN004, PRICAT
EAN005, SLSRPT EAN004). Like the X12 mapping, a message maps whole or raises
MalformedPayload naming the segment, element and value.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime
from decimal import Decimal

from promoflow.connectors.edi.documents import Segment, Transaction, first, split_loops
from promoflow.connectors.edi.items import Crosswalk, ItemId
from promoflow.connectors.edi.mapping import Mapping, quantity_text
from promoflow.connectors.ports import CatalogPriceRecord, SalesRecord, SupplierStockRecord

SLSRPT_IDENTIFIER = ("SLSRPT", "D", "96A", "UN", "EAN004")
ACTUAL_STOCK = "145"
SALES_QUANTITY = "153"
LINE_AMOUNT = "203"
Element = str | list[str]


def _ids(segments: Sequence[Segment]) -> list[ItemId]:
    ids: list[ItemId] = []
    for segment in segments:
        if segment.tag == "LIN" and segment.text(3, 1):
            ids.append(ItemId(segment.text(3, 2), segment.text(3, 1), segment, 3, 1))
        elif segment.tag == "PIA":
            for position in range(2, min(len(segment.elements), 6) + 1):
                if segment.text(position, 1):
                    ids.append(
                        ItemId(
                            segment.text(position, 2), segment.text(position, 1), segment, position
                        )
                    )
    return ids


def _qualified(segments: Sequence[Segment], tag: str, qualifier: str) -> Segment | None:
    return next((s for s in segments if s.tag == tag and s.text(1, 1) == qualifier), None)


def _moment(segment: Segment, mapping: Mapping) -> datetime:
    """A DTM composite (qualifier:value:format), format 102 CCYYMMDD or 203 CCYYMMDDHHMM."""
    m = mapping.malformed
    value = m.required(segment, 1, "date", 2)
    pattern = {"102": "%Y%m%d", "203": "%Y%m%d%H%M"}.get(segment.text(1, 3) or "102")
    if pattern is None:
        raise m.at(segment, 1, "date format must be 102 or 203", 3)
    try:
        return datetime.strptime(value, pattern).replace(tzinfo=UTC)
    except ValueError:
        raise m.at(
            segment, 1, f"date does not match format {segment.text(1, 3) or '102'}", 2
        ) from None


def stock_from_invrpt(message: Transaction, mapping: Mapping) -> list[SupplierStockRecord]:
    """INVRPT -> one SupplierStockRecord per LIN group (QTY+145 actual stock, DTM+137 as of)."""
    m = mapping.malformed
    heading, groups = split_loops(message.segments, "LIN")
    dated = _qualified(heading, "DTM", "137")
    if dated is None:
        raise m.at(message.segments[0], 2, "INVRPT without its DTM+137 document date")
    as_of = _moment(dated, mapping)
    records = []
    for group in groups:
        sku, gtin = mapping.crosswalk.resolve(_ids(group), group[0], m)
        stock = _qualified(group, "QTY", ACTUAL_STOCK)
        if stock is None:
            raise m.at(group[0], 3, "no QTY+145 (actual stock) for this item")
        available = m.number(stock, 1, "actual stock", 2)
        if available < 0:
            raise m.at(stock, 1, "actual stock cannot be negative", 2)
        records.append(
            SupplierStockRecord(mapping.supplier_code, sku, float(available), as_of, gtin)
        )
    return records


def prices_from_pricat(message: Transaction, mapping: Mapping) -> list[CatalogPriceRecord]:
    """PRICAT -> one CatalogPriceRecord per LIN group (PRI with a cost qualifier, DTM+157 from)."""
    m = mapping.malformed
    heading, groups = split_loops(message.segments, "LIN")
    cux = first(heading, "CUX")
    currency = cux.text(1, 2) if cux is not None and cux.text(1, 2) else mapping.currency
    records = []
    for group in groups:
        sku, gtin = mapping.crosswalk.resolve(_ids(group), group[0], m)
        price = next(
            (p for p in group if p.tag == "PRI" and p.text(1, 1) in mapping.cost_price_codes), None
        )
        if price is None:
            codes = "/".join(sorted(mapping.cost_price_codes))
            raise m.at(group[0], 3, f"no PRI with a cost price qualifier ({codes}) for this item")
        cost = m.number(price, 1, "price amount", 2)
        if cost < 0:
            raise m.at(price, 1, "price amount cannot be negative", 2)
        start = _qualified(group, "DTM", "157")
        valid_from = _moment(start, mapping).date() if start else None
        records.append(
            CatalogPriceRecord(mapping.supplier_code, sku, cost, currency, valid_from, gtin)
        )
    return records


def sales_from_slsrpt(message: Transaction, mapping: Mapping) -> list[SalesRecord]:
    """SLSRPT -> SalesRecords: LOC+162 location, DTM+356 day, QTY+153 units, MOA+203 revenue."""
    m = mapping.malformed
    period_end = _qualified(message.segments, "DTM", "91")
    location: str | None = None
    day: date | None = _moment(period_end, mapping).date() if period_end else None
    line: list[Segment] = []
    records: list[SalesRecord] = []

    def close_line() -> None:
        if not line:
            return
        if location is None or day is None:
            raise m.at(line[0], 1, "sales line before a LOC+162 location with its DTM+356 day")
        sku, _ = mapping.crosswalk.resolve(_ids(line), line[0], m)
        amount = _qualified(line, "MOA", LINE_AMOUNT)
        price = first(line, "PRI")
        for qty in (q for q in line if q.tag == "QTY" and q.text(1, 1) == SALES_QUANTITY):
            units = m.number(qty, 1, "sales quantity", 2)
            if amount is not None:
                revenue = m.number(amount, 1, "line amount", 2)
            elif price is not None:
                revenue = m.number(price, 1, "price amount", 2) * units
            else:
                raise m.at(line[0], 1, "no MOA+203 amount or PRI price for this line")
            records.append(SalesRecord(sku, location, day, float(units), revenue))
        line.clear()

    for segment in message.segments:
        if segment.tag in ("LOC", "LIN", "UNT"):
            close_line()
        if segment.tag == "LOC" and segment.text(1) == "162":
            location = m.required(segment, 2, "location identification")
        elif segment.tag == "DTM" and segment.text(1, 1) == "356":
            day = _moment(segment, mapping).date()
        elif segment.tag == "LIN" or line:
            line.append(segment)
    return records


def document_slsrpt(
    sales: Sequence[SalesRecord],
    crosswalk: Crosswalk,
    parties: tuple[str, str],
    currency: str,
    document_number: str,
    today: date,
) -> list[list[Element]]:
    """The body of a SLSRPT (BGM..last QTY) for sales records; `parties` = (supplier, buyer) ids."""
    days = sorted({r.day for r in sales})
    body: list[list[Element]] = [
        ["BGM", "73E", document_number, "9"],
        ["DTM", ["137", f"{today:%Y%m%d}", "102"]],
        ["DTM", ["90", f"{days[0]:%Y%m%d}", "102"]],
        ["DTM", ["91", f"{days[-1]:%Y%m%d}", "102"]],
        ["NAD", "SU", [parties[0], "", "9"]],
        ["NAD", "BY", [parties[1], "", "9"]],
        ["CUX", ["2", currency, "10"]],
    ]
    by_place: dict[tuple[str, date], list[SalesRecord]] = {}
    for record in sales:
        by_place.setdefault((record.location_code, record.day), []).append(record)
    line_number = 0
    for (location, day), records in sorted(by_place.items()):
        body.append(["LOC", "162", [location, "", "92"]])
        body.append(["DTM", ["356", f"{day:%Y%m%d}", "102"]])
        for record in sorted(records, key=lambda r: r.sku):
            line_number += 1
            entry = crosswalk.entry(record.sku)
            if entry is not None and entry.gtin:
                body.append(["LIN", str(line_number), "", [entry.gtin, "EN"]])
            else:
                body.append(["LIN", str(line_number)])
            body.append(["PIA", "1", [record.sku, "IN"]])
            body.append(["MOA", [LINE_AMOUNT, quantity_text(record.revenue)]])
            body.append(["QTY", [SALES_QUANTITY, quantity_text(Decimal(str(record.units))), "PCE"]])
    return body

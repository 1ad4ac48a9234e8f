"""X12 documents <-> canonical records (846, 832, 855, 852 in; 850, 852 out).

Every reader maps a whole transaction set or raises MalformedPayload naming the
segment, element and value (and carrying the raw interchange): a document is
never half-mapped. docs/connectors/edi.md has the segment-to-field table.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from decimal import Decimal

from promoflow.connectors.edi.documents import Malformed, Segment, Transaction, first, split_loops
from promoflow.connectors.edi.items import Crosswalk, ItemId
from promoflow.connectors.ports import (
    CatalogPriceRecord,
    PurchaseOrderAck,
    PurchaseOrderRequest,
    SalesRecord,
    SupplierStockRecord,
)

STOCK_QUANTITY_CODES = ("33", "17")  # 33 available for sale, 17 on hand (fallback)
ACCEPTED_LINE_CODES = frozenset({"IA", "IC", "IP", "IQ", "IS"})  # accepted, maybe changed
REJECTED_ACK_TYPES = frozenset({"RD", "RF", "RJ", "RN", "RO", "RV"})
LOCATION_PARTIES = ("RL", "ST")  # reporting location, ship-to


@dataclass(frozen=True)
class Mapping:
    """What a mapping needs besides the document: the partner's terms and item crosswalk."""

    supplier_code: str
    currency: str
    cost_price_codes: frozenset[str]
    crosswalk: Crosswalk
    malformed: Malformed


def quantity_text(value: float | Decimal) -> str:
    """A quantity as X12 R / EDIFACT n: no exponent, no trailing zeros."""
    number = Decimal(str(value))
    text = format(number.normalize(), "f")
    return "0" if text in ("-0", "") else text


def _ids_from_pairs(segment: Segment, start: int) -> list[ItemId]:
    ids: list[ItemId] = []
    for position in range(start, len(segment.elements), 2):
        qualifier, value = segment.text(position), segment.text(position + 1)
        if qualifier or value:
            ids.append(ItemId(qualifier, value, segment, position + 1))
    return ids


def _timestamp(day: date, hhmm: str) -> datetime:
    digits = hhmm if hhmm.isdigit() and len(hhmm) in (4, 6) else "0000"
    return datetime.combine(day, time(int(digits[:2]), int(digits[2:4])), tzinfo=UTC)


def stock_from_846(transaction: Transaction, mapping: Mapping) -> list[SupplierStockRecord]:
    """846 Inventory Inquiry/Advice -> one SupplierStockRecord per LIN loop."""
    m = mapping.malformed
    heading, loops = split_loops(transaction.segments, "LIN")
    bia = first(heading, "BIA")
    if bia is None:
        raise m.at(transaction.segments[0], 1, "846 without its BIA segment")
    as_of = _timestamp(m.day(bia, 4, "inventory advice date"), bia.text(5))
    records = []
    for loop in loops:
        lin = loop[0]
        sku, gtin = mapping.crosswalk.resolve(_ids_from_pairs(lin, 2), lin, m)
        quantities = {q.text(1): q for q in loop if q.tag == "QTY"}
        code = next((c for c in STOCK_QUANTITY_CODES if c in quantities), None)
        if code is None:
            raise m.at(lin, 3, "no QTY*33 (available for sale) or QTY*17 (on hand) for this item")
        available = m.number(quantities[code], 2, "stock quantity")
        if available < 0:
            raise m.at(quantities[code], 2, "stock quantity cannot be negative")
        records.append(
            SupplierStockRecord(mapping.supplier_code, sku, float(available), as_of, gtin)
        )
    return records


def prices_from_832(transaction: Transaction, mapping: Mapping) -> list[CatalogPriceRecord]:
    """832 Price/Sales Catalog -> one CatalogPriceRecord per LIN loop (CTP with a cost code)."""
    m = mapping.malformed
    heading, loops = split_loops(transaction.segments, "LIN")
    cur = first(heading, "CUR")
    currency = cur.text(2) if cur is not None and cur.text(2) else mapping.currency
    effective = next((s for s in heading if s.tag == "DTM" and s.text(1) == "007"), None)
    default_from = m.day(effective, 2, "effective date") if effective else None
    records = []
    for loop in loops:
        lin = loop[0]
        sku, gtin = mapping.crosswalk.resolve(_ids_from_pairs(lin, 2), lin, m)
        cost = next(
            (c for c in loop if c.tag == "CTP" and c.text(2) in mapping.cost_price_codes), None
        )
        if cost is None:
            codes = "/".join(sorted(mapping.cost_price_codes))
            raise m.at(lin, 3, f"no CTP with a cost price code ({codes}) for this item")
        price = m.number(cost, 3, "unit price")
        if price < 0:
            raise m.at(cost, 3, "unit price cannot be negative")
        line_from = next((s for s in loop if s.tag == "DTM" and s.text(1) == "007"), None)
        valid_from = m.day(line_from, 2, "effective date") if line_from else default_from
        records.append(
            CatalogPriceRecord(mapping.supplier_code, sku, price, currency, valid_from, gtin)
        )
    return records


def ack_from_855(transaction: Transaction, mapping: Mapping) -> PurchaseOrderAck:
    """855 PO Acknowledgment -> PurchaseOrderAck (acknowledged / partial / rejected)."""
    m = mapping.malformed
    heading, loops = split_loops(transaction.segments, "PO1")
    bak = first(heading, "BAK")
    if bak is None:
        raise m.at(transaction.segments[0], 1, "855 without its BAK segment")
    ack_type = m.required(bak, 2, "acknowledgment type")
    number = m.required(bak, 3, "purchase order number")
    acknowledged_at = _timestamp(m.day(bak, 4, "acknowledgment date"), "")
    rejected = ack_type in REJECTED_ACK_TYPES
    confirmed: list[tuple[str, float]] = []
    short = False
    for loop in loops:
        po1 = loop[0]
        sku, _ = mapping.crosswalk.resolve(_ids_from_pairs(po1, 6), po1, m)
        ordered = m.number(po1, 2, "quantity ordered")
        acks = [a for a in loop if a.tag == "ACK"]
        if rejected:
            quantity = Decimal(0)
        elif not acks:
            quantity = ordered
        else:
            quantity = Decimal(0)
            for ack in acks:
                status = m.required(ack, 1, "line item status")
                if status in ACCEPTED_LINE_CODES:
                    quantity += m.number(ack, 2, "quantity") if ack.text(2) else ordered
                else:
                    short = True
        short = short or quantity < ordered
        confirmed.append((sku, float(quantity)))
    if rejected or (confirmed and all(q == 0 for _, q in confirmed)):
        status = "rejected"
    elif short:
        status = "partial"
    else:
        status = "acknowledged"
    return PurchaseOrderAck(number, status, tuple(confirmed), acknowledged_at)


def sales_from_852(transaction: Transaction, mapping: Mapping) -> list[SalesRecord]:
    """852 Product Activity Data -> SalesRecords (ZA*QS units, CTP revenue, N1*RL location)."""
    m = mapping.malformed
    heading, loops = split_loops(transaction.segments, "LIN")
    xq = first(heading, "XQ")
    if xq is None:
        raise m.at(transaction.segments[0], 1, "852 without its XQ segment")
    start = m.day(xq, 2, "reporting start date")
    period_day = m.day(xq, 3, "reporting end date") if xq.text(3) else start
    party = next((s for s in heading if s.tag == "N1" and s.text(1) in LOCATION_PARTIES), None)
    if party is None:
        raise m.at(xq, 1, "852 without an N1*RL (reporting location) or N1*ST")
    location = m.required(party, 4, "location identification code")
    records = []
    for loop in loops:
        lin = loop[0]
        sku, _ = mapping.crosswalk.resolve(_ids_from_pairs(lin, 2), lin, m)
        sdq = first(loop, "SDQ")
        if sdq is not None:
            raise m.at(sdq, 3, "store breakdowns in SDQ are not read: send one 852 per store")
        sold = [z for z in loop if z.tag == "ZA" and z.text(1) == "QS"]
        price = first(loop, "CTP")
        for za in sold:
            units = m.number(za, 2, "quantity sold")
            day = m.day(za, 5, "activity date") if za.text(5) else period_day
            if price is None:
                raise m.at(lin, 3, "no CTP (price or sales amount) for this item")
            if price.text(8) and len(sold) == 1:
                revenue = m.number(price, 8, "sales amount")
            else:
                revenue = m.number(price, 3, "unit price") * units
            records.append(SalesRecord(sku, location, day, float(units), revenue))
    return records


def _item_elements(sku: str, crosswalk: Crosswalk) -> list[str]:
    entry = crosswalk.entry(sku)
    elements = ["IN", sku]
    if entry is not None and entry.gtin:
        elements += ["UP" if len(entry.gtin) == 12 else "EN", entry.gtin]
    if entry is not None and entry.vendor_item:
        elements += ["VN", entry.vendor_item]
    return elements


def document_850(order: PurchaseOrderRequest, crosswalk: Crosswalk, today: date) -> list[list[str]]:
    """The body of an 850 (BEG..CTT) for a PurchaseOrderRequest."""
    body = [
        ["BEG", "00", "SA", order.number, "", f"{today:%Y%m%d}"],
        ["DTM", "002", f"{order.due:%Y%m%d}"],
        ["N1", "ST", "", "92", order.destination_code],
    ]
    total = Decimal(0)
    for line, (sku, quantity) in enumerate(order.lines, start=1):
        body.append(
            [
                "PO1",
                str(line),
                quantity_text(quantity),
                "EA",
                "",
                "",
                *_item_elements(sku, crosswalk),
            ]
        )
        total += Decimal(str(quantity))
    body.append(["CTT", str(len(order.lines)), quantity_text(total)])
    return body


def documents_852(sales: Sequence[SalesRecord], crosswalk: Crosswalk) -> list[list[list[str]]]:
    """852 bodies, one per location and day (XQ, N1*RL, a LIN/CTP/ZA loop per SKU)."""
    by_place: dict[tuple[str, date], list[SalesRecord]] = {}
    for record in sales:
        by_place.setdefault((record.location_code, record.day), []).append(record)
    bodies = []
    for (location, day), records in sorted(by_place.items()):
        stamp = f"{day:%Y%m%d}"
        body = [["XQ", "H", stamp, stamp], ["N1", "RL", "", "92", location]]
        for record in sorted(records, key=lambda r: r.sku):
            units = Decimal(str(record.units))
            unit_price = (
                (record.revenue / units).quantize(Decimal("0.0001")) if units else Decimal(0)
            )
            body.append(["LIN", "", *_item_elements(record.sku, crosswalk)])
            body.append(
                [
                    "CTP",
                    "",
                    "RES",
                    quantity_text(unit_price),
                    "",
                    "",
                    "",
                    "",
                    quantity_text(record.revenue),
                ]
            )
            body.append(["ZA", "QS", quantity_text(units), "EA"])
        body.append(["CTT", str(len(records))])
        bodies.append(body)
    return bodies

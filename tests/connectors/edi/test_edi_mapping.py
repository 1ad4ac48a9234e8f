"""Documents to canonical records and back: fixtures map, bad values are named, round trips."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from edi_support import CROSSWALK, crosswalk_for_gtins, mapping_for, ours, published

from promoflow.connectors.edi import edifact_mapping as efm
from promoflow.connectors.edi import mapping as x12m
from promoflow.connectors.edi.documents import Malformed, Transaction
from promoflow.connectors.edi.edifact import EdifactEnvelope, read_edifact, write_edifact
from promoflow.connectors.edi.items import Crosswalk
from promoflow.connectors.edi.x12 import X12Envelope, read_x12, write_x12
from promoflow.connectors.ports import MalformedPayload, PurchaseOrderRequest, SalesRecord

NOW = datetime(2024, 5, 2, 9, 30, tzinfo=UTC)
ENVELOPE = X12Envelope(("ZZ", "PROMOFLOWRTL"), ("ZZ", "ACMESUPPLY"), "PROMOFLOWRTL", "ACME", 9)


def x12_sets(text: str) -> list[Transaction]:
    return [t for i in read_x12(text, Malformed("edi", text)) for t in i.transactions]


def edifact_messages(text: str) -> list[Transaction]:
    return [t for i in read_edifact(text, Malformed("edi", text)) for t in i.transactions]


def test_846_maps_available_stock_with_on_hand_as_fallback() -> None:
    text = ours("846-004010-inventory-advice.x12")
    (advice,) = x12_sets(text)
    records = x12m.stock_from_846(advice, mapping_for(text))
    as_of = datetime(2024, 5, 2, 8, 0, tzinfo=UTC)
    assert [(r.sku, r.available, r.gtin, r.as_of) for r in records] == [
        ("SKU-0001", 1200.0, "036000291452", as_of),  # by UPC through the crosswalk; 33 wins
        ("SKU-0002", 0.0, "012345678905", as_of),  # our item number (IN) taken as the SKU
        ("SKU-0003", 48.5, "4006381333931", as_of),  # only QTY*17 on hand
    ]
    assert {r.supplier_code for r in records} == {"ACME"}


@pytest.mark.parametrize(
    ("change", "field", "value"),
    [
        (("QTY*33*1200*EA", "QTY*33*12O0*EA"), "QTY02", "12O0"),
        (("BIA*00*SI*INV-20240502*20240502*0800", "BIA*00*SI*INV-20240502**0800"), "BIA04", ""),
        (("LIN**UP*036000291452*VN*AC-100", "LIN**UP*036000299999"), "LIN03", "036000299999"),
    ],
)
def test_846_with_a_bad_value_is_refused_whole_naming_it(
    change: tuple[str, str], field: str, value: str
) -> None:
    text = ours("846-004010-inventory-advice.x12").replace(*change)
    (advice,) = x12_sets(text)
    with pytest.raises(MalformedPayload) as caught:
        x12m.stock_from_846(advice, mapping_for(text))
    assert (caught.value.field, caught.value.value) == (field, value)
    assert caught.value.payload == text


def test_832_maps_the_cost_price_and_its_effective_dates() -> None:
    text = ours("832-004010-price-catalog.x12")
    (catalog,) = x12_sets(text)
    records = x12m.prices_from_832(catalog, mapping_for(text))
    assert [(r.sku, r.unit_cost, r.currency, r.valid_from) for r in records] == [
        ("SKU-0001", Decimal("5.25"), "USD", date(2024, 6, 1)),  # CTP*RES is not our cost
        ("SKU-0002", Decimal("12.5"), "USD", date(2024, 6, 15)),
    ]


def test_published_855_maps_acknowledgements_by_po_number() -> None:
    text = published("855-004010UCS-01.x12")
    sets = x12_sets(text)
    gtins = sorted({s.text(7) for t in sets for s in t.segments if s.tag == "PO1"})
    mapping = mapping_for(text, crosswalk_for_gtins(gtins))
    acks = [x12m.ack_from_855(t, mapping) for t in sets]
    assert [a.number for a in acks] == ["194207", "194208", "194721", "194722", "194723", "194724"]
    first = acks[0]
    assert first.status == "acknowledged"
    assert first.acknowledged_at == datetime(2003, 5, 7, tzinfo=UTC)
    assert len(first.confirmed) == 26
    assert first.confirmed[0] == ("SKU-001119432383", 102.0)


def _855(bak02: str, acks: str) -> str:
    body = [f"BAK*00*{bak02}*PO-9*20240503", "PO1*1*10*EA***IN*SKU-0001", *acks.split("|")]
    body = [s for s in body if s]
    segments = ["ST*855*0001", *body, f"SE*{len(body) + 2}*0001"]
    return "\n".join(f"{s}~" for s in segments)


@pytest.mark.parametrize(
    ("bak02", "acks", "status", "confirmed"),
    [
        ("AD", "", "acknowledged", 10.0),
        ("AC", "ACK*IA*10*EA", "acknowledged", 10.0),
        ("AC", "ACK*IQ*6*EA", "partial", 6.0),
        ("AC", "ACK*IA*6*EA|ACK*IB*4*EA", "partial", 6.0),
        ("AC", "ACK*IR*10*EA", "rejected", 0.0),
        ("RJ", "", "rejected", 0.0),
    ],
)
def test_855_status_follows_the_bak_and_ack_codes(
    bak02: str, acks: str, status: str, confirmed: float
) -> None:
    envelope = write_x12("edi", ENVELOPE, "PR", [], NOW)
    text = envelope.replace("GE*0*9~", _855(bak02, acks) + "\nGE*1*9~")
    (transaction,) = x12_sets(text)
    ack = x12m.ack_from_855(transaction, mapping_for(text))
    assert (ack.status, ack.confirmed) == (status, (("SKU-0001", confirmed),))


def test_850_from_a_purchase_order_reads_back_to_the_same_lines() -> None:
    order = PurchaseOrderRequest(
        "PO-1001", "ACME", "DC1", date(2024, 5, 20), (("SKU-0001", 24.0), ("SKU-9", 2.5))
    )
    body = x12m.document_850(order, Crosswalk.load(CROSSWALK), date(2024, 5, 2))
    text = write_x12("edi", ENVELOPE, "PO", [("850", body)], NOW)
    (po,) = x12_sets(text)
    tags = {s.tag: s for s in po.segments}
    assert (tags["BEG"].text(3), tags["DTM"].text(2), tags["N1"].text(4)) == (
        "PO-1001",
        "20240520",
        "DC1",
    )
    lines = [(s.text(7), float(s.text(2))) for s in po.segments if s.tag == "PO1"]
    assert tuple(lines) == order.lines
    first_line = next(s for s in po.segments if s.tag == "PO1")
    assert [first_line.text(8), first_line.text(9)] == ["UP", "036000291452"]  # GTIN from crosswalk
    assert tags["CTT"].elements == (("2",), ("26.5",))


SALES = [
    SalesRecord("SKU-0001", "S012", date(2024, 5, 1), 3.0, Decimal("10.00")),
    SalesRecord("SKU-0002", "S012", date(2024, 5, 1), 2.0, Decimal("3.98")),
    SalesRecord("SKU-0001", "S007", date(2024, 4, 30), -1.0, Decimal("-3.33")),
    SalesRecord("SKU-0009", "S007", date(2024, 5, 1), 7.0, Decimal("0")),
]


def _key(record: SalesRecord) -> tuple[str, str, date]:
    return (record.location_code, record.sku, record.day)


def test_852_round_trips_sales_with_exact_revenue() -> None:
    crosswalk = Crosswalk.load(CROSSWALK)
    bodies = x12m.documents_852(SALES, crosswalk)
    text = write_x12("edi", ENVELOPE, "PD", [("852", b) for b in bodies], NOW)
    read = [r for t in x12_sets(text) for r in x12m.sales_from_852(t, mapping_for(text))]
    assert sorted(read, key=_key) == sorted(SALES, key=_key)


def test_our_852_fixture_maps_amounts_prices_dates_and_returns() -> None:
    text = ours("852-004010-product-activity.x12")
    read = [r for t in x12_sets(text) for r in x12m.sales_from_852(t, mapping_for(text))]
    assert [(r.sku, r.location_code, r.day, r.units, r.revenue) for r in read] == [
        ("SKU-0001", "S012", date(2024, 5, 1), 4.0, Decimal("10")),
        ("SKU-0002", "S012", date(2024, 5, 1), 3.0, Decimal("5.97")),
        ("SKU-0002", "S007", date(2024, 4, 30), -1.0, Decimal("-1.99")),
        ("SKU-0002", "S007", date(2024, 5, 1), 2.0, Decimal("3.98")),
    ]


def test_invrpt_fixture_maps_actual_stock() -> None:
    text = ours("INVRPT-D96A-EAN004-inventory-report.edi")
    (message,) = edifact_messages(text)
    records = efm.stock_from_invrpt(message, mapping_for(text))
    as_of = datetime(2024, 5, 2, 9, 0, tzinfo=UTC)
    assert [(r.sku, r.available, r.gtin, r.as_of) for r in records] == [
        ("SKU-0003", 320.0, "4006381333931", as_of),
        ("SKU-0004", 0.0, "5449000000996", as_of),
        ("SKU-0009", 12.0, None, as_of),
    ]


def test_invrpt_with_a_non_numeric_stock_is_refused_naming_it() -> None:
    text = ours("INVRPT-D96A-EAN004-inventory-report.edi").replace("QTY+145:320'", "QTY+145:3x0'")
    (message,) = edifact_messages(text)
    with pytest.raises(MalformedPayload) as caught:
        efm.stock_from_invrpt(message, mapping_for(text))
    assert (caught.value.field, caught.value.value) == ("QTY01-2", "3x0")


def test_published_pricat_maps_with_the_partners_price_qualifier() -> None:
    text = published("PRICAT_D96A_EAN005_from_WPPLU_2.edi")
    (message,) = edifact_messages(text)
    gtins = [s.text(3, 1) for s in message.segments if s.tag == "LIN"]
    crosswalk = crosswalk_for_gtins(gtins)
    with pytest.raises(MalformedPayload, match="no PRI with a cost price qualifier"):
        efm.prices_from_pricat(message, mapping_for(text, crosswalk))
    records = efm.prices_from_pricat(message, mapping_for(text, crosswalk, ("NTP",)))
    assert len(records) == len(gtins) == 62
    assert (records[0].sku, records[0].unit_cost, records[0].currency) == (
        "SKU-1641100101014",
        Decimal("100"),
        "EUR",
    )
    assert records[0].valid_from == date(2007, 9, 25)
    assert records[6].unit_cost == Decimal("24.99")


def test_published_slsrpt_maps_every_line_of_both_interchanges() -> None:
    text = published("SLSRPT_D96A_EAN004_slsrpt01.edi")
    messages = edifact_messages(text)
    gtins = sorted({s.text(3, 1) for m in messages for s in m.segments if s.tag == "LIN"})
    mapping = mapping_for(text, crosswalk_for_gtins(gtins))
    read = [r for m in messages for r in efm.sales_from_slsrpt(m, mapping)]
    assert len(read) == sum(1 for m in messages for s in m.segments if s.tag == "QTY")
    first = read[0]
    assert (first.sku, first.location_code, first.day) == (
        "SKU-8712345275208",
        "8712345001472",
        date(2008, 3, 31),
    )
    assert (first.units, first.revenue) == (2.0, Decimal("54"))  # PRI 27 x QTY 2
    assert any(r.units < 0 for r in read)  # returns come through as negative units


def test_slsrpt_round_trips_sales_with_exact_revenue() -> None:
    crosswalk = Crosswalk.load(CROSSWALK)
    body = efm.document_slsrpt(
        SALES, crosswalk, ("5412345000013", "5410738000005"), "EUR", "SR1", date(2024, 5, 2)
    )
    envelope = EdifactEnvelope(("14", "5410738000005"), ("14", "5412345000013"), 5)
    text = write_edifact(envelope, [(efm.SLSRPT_IDENTIFIER, body)], NOW)
    (message,) = edifact_messages(text)
    read = efm.sales_from_slsrpt(message, mapping_for(text))
    assert sorted(read, key=_key) == sorted(SALES, key=_key)

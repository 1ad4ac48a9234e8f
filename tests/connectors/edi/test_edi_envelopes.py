"""X12 and EDIFACT envelopes: samples read, broken envelopes are named, output re-reads."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from edi_support import ours, published

from promoflow.connectors.edi.documents import Malformed
from promoflow.connectors.edi.edifact import EdifactEnvelope, read_edifact, write_edifact
from promoflow.connectors.edi.x12 import X12Envelope, read_x12, write_x12
from promoflow.connectors.ports import ConnectorError, MalformedPayload

NOW = datetime(2024, 5, 2, 9, 30, tzinfo=UTC)


def x12(text: str):  # type: ignore[no-untyped-def]
    return read_x12(text, Malformed("edi", text))


def edifact(text: str):  # type: ignore[no-untyped-def]
    return read_edifact(text, Malformed("edi", text))


def test_published_855_reads_six_transaction_sets_inside_one_envelope() -> None:
    (interchange,) = x12(published("855-004010UCS-01.x12"))
    assert interchange.sender == ("ZZ", "9255550000")
    assert interchange.control_number == "000002953"
    assert [t.control_number for t in interchange.transactions] == [f"000{i}" for i in range(1, 7)]
    first = interchange.transactions[0]
    assert first.kind == "855"
    assert first.segments[-1].tag == "SE" and first.segments[-1].text(1) == str(len(first.segments))


def test_isa_declared_delimiters_are_honoured() -> None:
    text = published("x12types_004010_850.edi")
    # The same interchange with other delimiters declared in the ISA: | elements, ^ components, \n.
    other = text.strip().rstrip("~").replace("*", "|").replace("~\n", "\n") + "\n"
    other = other.replace("|>\n", "|^\n", 1)
    assert "~" not in other and "*" not in other
    (a,), (b,) = x12(text), x12(other)
    strip = [[(s.tag, s.elements) for s in t.segments] for t in a.transactions]
    assert strip == [[(s.tag, s.elements) for s in t.segments] for t in b.transactions]


@pytest.mark.parametrize(
    ("change", "field", "value"),
    [
        (("SE*11*0002", "SE*12*0002"), "SE01", "12"),
        (("SE*11*0002", "SE*11*0009"), "SE02", "0009"),
        (("GE*6*811", "GE*5*811"), "GE01", "5"),
        (("IEA*1*000002953", "IEA*1*000002954"), "IEA02", "000002954"),
    ],
)
def test_a_count_or_control_number_that_does_not_match_names_the_element(
    change: tuple[str, str], field: str, value: str
) -> None:
    text = published("855-004010UCS-01.x12").replace(*change)
    with pytest.raises(MalformedPayload) as caught:
        x12(text)
    assert (caught.value.field, caught.value.value) == (field, value)
    assert caught.value.payload == text
    assert not caught.value.retryable


def test_a_truncated_interchange_names_the_missing_trailer() -> None:
    text = published("855-004010UCS-01.x12")
    with pytest.raises(MalformedPayload, match="Transaction Set Trailer") as caught:
        x12(text[: text.index("SE*11*0002")])
    assert caught.value.field == "SE"


def test_an_interchange_version_pyx12_does_not_read_is_refused() -> None:
    with pytest.raises(MalformedPayload, match="00400") as caught:
        x12(published("x12types_004060_856.edi"))
    assert caught.value.field == "ISA"


def test_generated_x12_counts_its_envelope_and_reads_back() -> None:
    body = [
        ["BEG", "00", "SA", "PO-7", "", "20240502"],
        ["PO1", "1", "5", "EA", "", "", "IN", "S1"],
    ]
    envelope = X12Envelope(("ZZ", "US"), ("ZZ", "THEM"), "USAPP", "THEMAPP", 42)
    text = write_x12("edi", envelope, "PO", [("850", body), ("850", body)], NOW)
    (interchange,) = x12(text)
    assert text.splitlines()[-3:] == ["SE*4*0002~", "GE*2*42~", "IEA*1*000000042~"]
    assert [t.control_number for t in interchange.transactions] == ["0001", "0002"]
    read_body = [[s.tag, *(e[0] for e in s.elements)] for s in interchange.transactions[1].segments]
    assert read_body[1:-1] == body


def test_a_value_holding_an_x12_delimiter_is_refused_before_writing() -> None:
    from promoflow.connectors.edi.x12 import clean

    with pytest.raises(ConnectorError, match="SKU 'A\\*B'"):
        clean("edi", "SKU", "A*B")


def test_published_pricat_reads_and_the_slsrpt_sample_holds_two_interchanges() -> None:
    (pricat,) = edifact(published("PRICAT_D96A_EAN005_from_WPPLU_2.edi"))
    assert pricat.sender == ("14", "MIDCLNT010")
    assert [(m.kind, len(m.segments)) for m in pricat.transactions] == [("PRICAT", 380)]
    first, second = edifact(published("SLSRPT_D96A_EAN004_slsrpt01.edi"))
    assert (first.control_number, second.control_number) == ("76", "XXX")
    assert second.recipient == ("14", "4007060000007")


@pytest.mark.parametrize(
    ("change", "field", "value"),
    [
        (("UNT+14+33'", "UNT+15+33'"), "UNT01-1", "15"),
        (("UNT+14+33'", "UNT+14+34'"), "UNT02-1", "34"),
        (("UNZ+1+3'", "UNZ+2+3'"), "UNZ01-1", "2"),
        (("UNZ+1+3'", "UNZ+1+4'"), "UNZ02-1", "4"),
    ],
)
def test_an_edifact_count_or_reference_that_does_not_match_names_the_element(
    change: tuple[str, str], field: str, value: str
) -> None:
    text = published("PRICAT_D96A_EAN005_from_WPPLU_3.edi").replace(*change)
    with pytest.raises(MalformedPayload) as caught:
        edifact(text)
    assert (caught.value.field, caught.value.value) == (field, value)


def test_an_edifact_message_without_its_trailer_is_refused() -> None:
    text = published("PRICAT_D96A_EAN005_from_WPPLU_3.edi").replace("UNT+14+33'\n", "")
    with pytest.raises(MalformedPayload, match="message '33' has no UNT"):
        edifact(text)


def test_generated_edifact_escapes_and_reads_back() -> None:
    body: list[list[str | list[str]]] = [
        ["BGM", "73E", "SR1", "9"],
        ["IMD", "A", "", ["", "", "", "Tom's 2+1: ?deal"]],
    ]
    envelope = EdifactEnvelope(("14", "111"), ("14", "222"), 7)
    text = write_edifact(envelope, [(("SLSRPT", "D", "96A", "UN", "EAN004"), body)], NOW)
    assert "Tom?'s 2?+1?: ??deal" in text
    (interchange,) = edifact(text)
    (message,) = interchange.transactions
    assert message.segments[2].text(3, 4) == "Tom's 2+1: ?deal"
    assert message.segments[-1].elements == (("4",), ("1",))
    assert interchange.control_number == "7"


def test_our_inventory_report_fixture_has_a_valid_envelope() -> None:
    (interchange,) = edifact(ours("INVRPT-D96A-EAN004-inventory-report.edi"))
    assert [m.kind for m in interchange.transactions] == ["INVRPT"]

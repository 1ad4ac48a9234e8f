"""X12 interchanges in and out, through pyx12.

Why pyx12: it is the maintained X12 library on PyPI (4.x, typed, BSD). Its
transaction maps cover HIPAA sets only (plus 830/841), so the 846/852/832/850/855
content is checked by our mapping; what we use is its reader and writer, which
are generic: `X12Reader` takes the delimiters the ISA segment declares (element
separator ISA position 4, component separator ISA16, segment terminator after
ISA16) and checks the envelope — SE01 segment count and SE02 = ST02, GE01/GE02,
IEA01/IEA02, duplicate control numbers, missing trailers — and `X12Writer` writes
the SE/GE/IEA trailers with counts it computes. pyx12 reads interchange version
00401 and 00501 only (an ISA12 of 00400, 00403, ... is refused as malformed).

pyx12 ships no py.typed marker, hence the import-untyped ignores.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pyx12.errors  # type: ignore[import-untyped]
import pyx12.segment  # type: ignore[import-untyped]
import pyx12.x12file  # type: ignore[import-untyped]

from promoflow.connectors.edi.documents import Interchange, Malformed, Segment, Transaction
from promoflow.connectors.ports import ConnectorError

ELEMENT_SEPARATOR = "*"
COMPONENT_SEPARATOR = ">"
SEGMENT_TERMINATOR = "~"
DELIMITERS = (ELEMENT_SEPARATOR, COMPONENT_SEPARATOR, SEGMENT_TERMINATOR, "\n", "\r", "^")

# pyx12's envelope error codes -> the element they concern (position in the segment).
ENVELOPE_ERRORS: dict[tuple[str, str], tuple[str, int]] = {
    ("st", "3"): ("SE", 2),
    ("st", "4"): ("SE", 1),
    ("st", "23"): ("ST", 2),
    ("gs", "3"): ("GE", 2),
    ("gs", "4"): ("GE", 2),
    ("gs", "5"): ("GE", 1),
    ("gs", "6"): ("GS", 6),
    ("isa", "001"): ("IEA", 2),
    ("isa", "021"): ("IEA", 1),
    ("isa", "024"): ("IEA", 2),
    ("isa", "025"): ("ISA", 13),
}
# A trailing element separator before the terminator is common in the wild and harmless.
TOLERATED_ERRORS = {("seg", "SEG1")}


def _convert(seg: Any, position: int) -> Segment:
    elements: list[tuple[str, ...]] = []
    for composite in seg.elements:
        elements.append(tuple(str(composite[i].get_value()) for i in range(len(composite))))
    return Segment(str(seg.get_seg_id() or ""), tuple(elements), "x12", position)


def _envelope_error(error: tuple[Any, ...], segment: Segment, malformed: Malformed) -> Exception:
    kind, code, message = str(error[0]), str(error[1]), str(error[2])
    tag, position = ENVELOPE_ERRORS.get((kind, code), (segment.tag, 0))
    if position and tag == segment.tag:
        return malformed.at(segment, position, f"envelope: {message}")
    return malformed.envelope(segment.tag or tag, segment.tag, f"envelope: {message}")


def read_x12(text: str, malformed: Malformed) -> tuple[Interchange, ...]:
    """Tokenize with the ISA's delimiters and check every envelope, or MalformedPayload."""
    try:
        reader = pyx12.x12file.X12Reader(io.StringIO(text))
    except pyx12.errors.X12Error as error:
        raise malformed.envelope("ISA", text[:106], str(error)) from None
    interchanges: list[Interchange] = []
    isa: Segment | None = None
    group: Segment | None = None
    transactions: list[Transaction] = []
    current: list[Segment] | None = None
    for raw in reader:
        position = len(current) + 1 if current is not None else 1
        segment = _convert(raw, position)
        errors = [e for e in reader.pop_errors() if (e[0], e[1]) not in TOLERATED_ERRORS]
        if errors:
            raise _envelope_error(errors[0], segment, malformed)
        if segment.tag == "ISA":
            isa, group, transactions = segment, None, []
        elif segment.tag == "GS":
            group = segment
        elif segment.tag == "ST":
            if group is None:
                raise malformed.at(segment, 1, "a transaction set must sit inside a GS group")
            current = [segment]
        elif current is not None:
            current.append(segment)
            if segment.tag == "SE":
                kind = malformed.required(current[0], 1, "transaction set identifier")
                transactions.append(Transaction(kind, current[0].text(2), tuple(current)))
                current = None
        elif segment.tag == "IEA" and isa is not None:
            sender, receiver = (isa.text(5), isa.text(6)), (isa.text(7), isa.text(8))
            control = isa.text(13)
            interchanges.append(
                Interchange("x12", sender, receiver, control, tuple(transactions), text)
            )
        elif segment.tag != "GE":
            raise malformed.at(segment, 1, "segment outside any ST..SE transaction set")
    reader.cleanup()
    missing = reader.pop_errors()
    if missing:  # innermost first: the transaction set whose SE never came
        innermost = missing[-1]
        trailer = {"st": "SE", "gs": "GE", "isa": "IEA"}.get(str(innermost[0]), "ISA")
        raise malformed.envelope(trailer, None, str(innermost[2]))
    return tuple(interchanges)


@dataclass(frozen=True)
class X12Envelope:
    """What the ISA and GS headers of an outbound interchange say."""

    sender: tuple[str, str]  # (ISA05 qualifier, ISA06 id)
    receiver: tuple[str, str]
    application_sender: str  # GS02
    application_receiver: str  # GS03
    control_number: int  # ISA13 and GS06
    usage: str = "P"  # ISA15: P production, T test
    version: str = "004010"


def clean(system: str, what: str, value: str) -> str:
    """A value safe to place in an element, or ConnectorError naming it (X12 has no escape)."""
    if any(d in value for d in DELIMITERS):
        raise ConnectorError(
            system,
            f"{what} {value!r} contains an X12 delimiter ({' '.join(DELIMITERS[:3])}); "
            "X12 has no escape character, so change the value",
            retryable=False,
        )
    return value


def write_x12(
    system: str,
    envelope: X12Envelope,
    functional_id: str,
    transactions: Sequence[tuple[str, Sequence[Sequence[str]]]],
    now: datetime,
) -> str:
    """One interchange, one group; each transaction is (set id, body segments as element lists).

    pyx12's writer adds the SE, GE and IEA trailers with the counts it computed.
    """
    out = io.StringIO()
    writer = pyx12.x12file.X12Writer(
        out, SEGMENT_TERMINATOR, ELEMENT_SEPARATOR, COMPONENT_SEPARATOR, "\n", "^"
    )
    control = f"{envelope.control_number:09d}"
    isa = [
        "ISA", "00", " " * 10, "00", " " * 10,
        envelope.sender[0], envelope.sender[1].ljust(15),
        envelope.receiver[0], envelope.receiver[1].ljust(15),
        f"{now:%y%m%d}", f"{now:%H%M}", "U", "00401", control, "0", envelope.usage,
        COMPONENT_SEPARATOR,
    ]  # fmt: skip
    gs = [
        "GS", functional_id, envelope.application_sender, envelope.application_receiver,
        f"{now:%Y%m%d}", f"{now:%H%M}", str(envelope.control_number), "X", envelope.version,
    ]  # fmt: skip
    head = [isa, gs]
    for tag_and_elements in head:
        writer.Write(_segment(tag_and_elements))
    for number, (set_id, body) in enumerate(transactions, start=1):
        st02 = f"{number:04d}"
        writer.Write(_segment(["ST", set_id, st02]))
        for elements in body:
            writer.Write(_segment(list(elements)))
        writer.Write(_segment(["SE", "0", st02]))
    writer.Write(_segment(["GE", "0", str(envelope.control_number)]))
    writer.Write(_segment(["IEA", "0", control]))
    writer.close()
    problems = writer.pop_errors()
    if problems:  # our own generator broke the envelope: a bug, never the partner's data
        raise ConnectorError(system, f"generated X12 is invalid: {problems[0][2]}", retryable=False)
    return out.getvalue()


def _segment(elements: list[str]) -> Any:
    text = ELEMENT_SEPARATOR.join(elements)
    return pyx12.segment.Segment(text, SEGMENT_TERMINATOR, ELEMENT_SEPARATOR, COMPONENT_SEPARATOR)

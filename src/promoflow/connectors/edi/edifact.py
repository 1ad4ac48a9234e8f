"""EDIFACT interchanges in and out, through pydifact.

pydifact (maintained, typed) tokenizes with the UNA service string advice and the
release character, and serializes with escaping. It does not check the envelope
(its `Interchange.validate` is a stub and it drops UNZ on reading), so the checks
are here: UNB first, UNZ last with the message count and UNB's reference, each
UNH..UNT with UNT's segment count and UNH's reference. Functional groups (UNG/UNE)
are refused: no supplier we trade with uses them.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydifact.control.characters import Characters
from pydifact.exceptions import EDISyntaxError, MissingImplementationWarning, ValidationError
from pydifact.parser import Parser
from pydifact.segmentcollection import Interchange as PydifactInterchange
from pydifact.segmentcollection import Message
from pydifact.segments import Segment as PydifactSegment

from promoflow.connectors.edi.documents import Interchange, Malformed, Segment, Transaction

SERVICE_STRING_ADVICE = "UNA:+.? '"


def _convert(segment: PydifactSegment, position: int) -> Segment:
    elements: list[tuple[str, ...]] = []
    for element in segment.elements:
        if isinstance(element, list):
            elements.append(tuple(str(part) for part in element))
        else:
            elements.append((str(element),))
    return Segment(segment.tag, tuple(elements), "edifact", position)


def _tokenize(text: str, malformed: Malformed) -> list[Segment]:
    try:
        with warnings.catch_warnings():
            # pydifact warns for each service segment it has no XML directory for.
            warnings.simplefilter("ignore", MissingImplementationWarning)
            parsed = list(Parser().parse(text))
    except (EDISyntaxError, ValidationError, ValueError, IndexError) as error:
        raise malformed.envelope("UNA/UNB", text[:40], f"not EDIFACT: {error}") from None
    return [_convert(s, 0) for s in parsed if s.tag != "UNA"]


def read_edifact(text: str, malformed: Malformed) -> tuple[Interchange, ...]:
    """Tokenize (UNA-declared separators) and check each envelope; MalformedPayload if one fails.

    A file may hold several interchanges one after the other (the published SLSRPT
    sample does); each is checked on its own.
    """
    segments = _tokenize(text, malformed)
    if not segments or segments[0].tag != "UNB":
        value = segments[0].tag if segments else ""
        raise malformed.envelope("UNB", value, "an interchange starts with UNB (after UNA)")
    interchanges: list[Interchange] = []
    current: list[Segment] = []
    for segment in segments:
        if segment.tag == "UNB" and current:
            raise malformed.at(segment, 5, "UNB before the previous interchange's UNZ")
        current.append(segment)
        if segment.tag == "UNZ":
            interchanges.append(_interchange(current, malformed, text))
            current = []
        elif current[0].tag != "UNB":
            raise malformed.at(segment, 1, "segment after UNZ, outside any interchange")
    if current:
        raise malformed.envelope("UNZ", None, "the interchange trailer UNZ is missing")
    return tuple(interchanges)


def _interchange(segments: list[Segment], malformed: Malformed, raw: str) -> Interchange:
    unb, unz = segments[0], segments[-1]
    reference = malformed.required(unb, 5, "interchange control reference")
    transactions: list[Transaction] = []
    current: list[Segment] | None = None
    for segment in segments[1:-1]:
        if segment.tag in ("UNG", "UNE"):
            raise malformed.at(segment, 1, "functional groups (UNG/UNE) are not supported")
        if segment.tag == "UNH":
            if current is not None:
                raise malformed.at(segment, 1, "UNH before the previous message's UNT")
            current = [Segment("UNH", segment.elements, "edifact", 1)]
        elif current is None:
            raise malformed.at(segment, 1, "segment outside any UNH..UNT message")
        else:
            current.append(Segment(segment.tag, segment.elements, "edifact", len(current) + 1))
            if segment.tag == "UNT":
                transactions.append(_message(current, malformed))
                current = None
    if current is not None:
        raise malformed.envelope("UNT", None, f"message {current[0].text(1)!r} has no UNT")
    if malformed.number(unz, 1, "interchange control count") != len(transactions):
        raise malformed.at(unz, 1, f"counts {len(transactions)} messages in the interchange")
    if unz.text(2) != reference:
        raise malformed.at(unz, 2, f"does not match UNB05 {reference!r}")
    return Interchange(
        "edifact",
        (unb.text(2, 2), unb.text(2, 1)),
        (unb.text(3, 2), unb.text(3, 1)),
        reference,
        tuple(transactions),
        raw,
    )


def _message(segments: list[Segment], malformed: Malformed) -> Transaction:
    unh, unt = segments[0], segments[-1]
    reference = malformed.required(unh, 1, "message reference number")
    kind = malformed.required(unh, 2, "message type", 1)
    if malformed.number(unt, 1, "number of segments in the message") != len(segments):
        raise malformed.at(unt, 1, f"counts {len(segments)} segments from UNH to UNT")
    if unt.text(2) != reference:
        raise malformed.at(unt, 2, f"does not match UNH01 {reference!r}")
    return Transaction(kind, reference, tuple(segments))


@dataclass(frozen=True)
class EdifactEnvelope:
    """What the UNB header of an outbound interchange says."""

    sender: tuple[str, str]  # (partner identification code qualifier, id)
    recipient: tuple[str, str]
    control_reference: int
    syntax: tuple[str, int] = ("UNOC", 3)
    test: bool = False


def write_edifact(
    envelope: EdifactEnvelope,
    messages: Sequence[tuple[Sequence[str], Sequence[Sequence[str | list[str]]]]],
    now: datetime,
) -> str:
    """One interchange; each message is (UNH02 identifier, body segments).

    pydifact writes UNA, escapes with the release character and counts UNT and UNZ.
    """
    characters = Characters.from_str(SERVICE_STRING_ADVICE)
    extra: list[Any] = ["", "", "", "", "1"] if envelope.test else []  # UNB11 test indicator
    interchange = PydifactInterchange(
        sender=[envelope.sender[1], envelope.sender[0]],
        recipient=[envelope.recipient[1], envelope.recipient[0]],
        control_reference=str(envelope.control_reference),
        syntax_identifier=envelope.syntax,
        timestamp=now.replace(tzinfo=None),
        characters=characters,
        extra_header_elements=extra,
    )
    interchange.has_una_segment = True
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", MissingImplementationWarning)
        for number, (identifier, body) in enumerate(messages, start=1):
            message = Message(str(number), list(identifier), characters=characters)
            for elements in body:
                message.add_segment(PydifactSegment(str(elements[0]), *elements[1:]))
            interchange.add_message(message)
        return interchange.serialize(break_lines=True)

"""One neutral shape for parsed EDI, whichever syntax it came in.

X12 (pyx12) and EDIFACT (pydifact) segments are turned into `Segment`: a tag and
its elements, each element a tuple of components. The mapping reads only this
shape, so it never depends on either library's classes, and every value it reads
goes through `Segment.text`/`Segment.required`, which name the segment, element
and value when something is missing or wrong.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Literal

from promoflow.connectors.ports import MalformedPayload

Standard = Literal["x12", "edifact"]


def element_ref(standard: Standard, tag: str, position: int, component: int = 1) -> str:
    """A reference designator users can look up: PO102 (X12), QTY01-2 (EDIFACT composite)."""
    base = f"{tag}{position:02d}"
    return base if component == 1 and standard == "x12" else f"{base}-{component}"


@dataclass(frozen=True)
class Segment:
    """A segment: tag, elements (each a tuple of components), its standard and position."""

    tag: str
    elements: tuple[tuple[str, ...], ...]
    standard: Standard
    position: int = 0  # 1-based within its transaction set / message

    def text(self, position: int, component: int = 1) -> str:
        """An element's (or component's) value, "" when absent."""
        if position < 1 or position > len(self.elements):
            return ""
        element = self.elements[position - 1]
        if component < 1 or component > len(element):
            return ""
        return element[component - 1].strip()

    def ref(self, position: int, component: int = 1) -> str:
        return element_ref(self.standard, self.tag, position, component)


@dataclass(frozen=True)
class Transaction:
    """One X12 transaction set (ST..SE) or EDIFACT message (UNH..UNT)."""

    kind: str  # "846", "855", ... or "PRICAT", "INVRPT", "SLSRPT"
    control_number: str
    segments: tuple[Segment, ...]


@dataclass(frozen=True)
class Interchange:
    """A whole interchange with its envelope checked; `raw` is the document as received."""

    standard: Standard
    sender: tuple[str, str]  # (qualifier, id)
    recipient: tuple[str, str]
    control_number: str
    transactions: tuple[Transaction, ...]
    raw: str = field(repr=False, default="")


class Malformed:
    """MalformedPayload errors naming segment, element and value, carrying the raw document."""

    def __init__(self, system: str, raw: str) -> None:
        self.system = system
        self.raw = raw

    def at(
        self, segment: Segment, position: int, reason: str, component: int = 1
    ) -> MalformedPayload:
        ref = segment.ref(position, component)
        value = segment.text(position, component)
        where = f"segment {segment.tag} #{segment.position}" if segment.position else segment.tag
        return MalformedPayload(
            self.system,
            f"{where}, element {ref} = {value!r}: {reason}",
            payload=self.raw,
            field=ref,
            value=value,
        )

    def envelope(self, field_ref: str, value: object, reason: str) -> MalformedPayload:
        return MalformedPayload(
            self.system,
            f"envelope {field_ref} = {value!r}: {reason}",
            payload=self.raw,
            field=field_ref,
            value=value,
        )

    def required(self, segment: Segment, position: int, what: str, component: int = 1) -> str:
        """A mandatory value, or MalformedPayload saying which one is missing."""
        value = segment.text(position, component)
        if not value:
            raise self.at(segment, position, f"{what} is mandatory and missing", component)
        return value

    def number(self, segment: Segment, position: int, what: str, component: int = 1) -> Decimal:
        """A mandatory decimal value (X12 R/N, EDIFACT n; a decimal comma is accepted)."""
        value = self.required(segment, position, what, component)
        try:
            parsed = Decimal(value.replace(",", "."))
        except InvalidOperation:
            raise self.at(segment, position, f"{what} must be numeric", component) from None
        if not parsed.is_finite():
            raise self.at(segment, position, f"{what} must be a finite number", component)
        return parsed

    def day(self, segment: Segment, position: int, what: str, component: int = 1) -> date:
        """A mandatory date, CCYYMMDD (X12 DT, EDIFACT format 102)."""
        value = self.required(segment, position, what, component)
        try:
            return datetime.strptime(value, "%Y%m%d").replace(tzinfo=UTC).date()
        except ValueError:
            raise self.at(segment, position, f"{what} must be a date CCYYMMDD", component) from None


def first(segments: tuple[Segment, ...] | list[Segment], tag: str) -> Segment | None:
    """The first segment with this tag, if any."""
    return next((s for s in segments if s.tag == tag), None)


def split_loops(
    segments: tuple[Segment, ...], start_tag: str
) -> tuple[list[Segment], list[list[Segment]]]:
    """The heading before the first `start_tag`, and each loop that starts with it."""
    heading: list[Segment] = []
    loops: list[list[Segment]] = []
    for segment in segments:
        if segment.tag == start_tag:
            loops.append([segment])
        elif loops:
            loops[-1].append(segment)
        else:
            heading.append(segment)
    return heading, loops

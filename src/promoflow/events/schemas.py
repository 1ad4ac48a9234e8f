"""What crosses the events package's boundary: the CloudEvent shape and the log's names.

(The JSON schemas of the wire format are data files in `events/schemas/`; this
module is the Python side of the boundary.)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# A CloudEvents 1.0 event in its JSON form, as relayed and consumed.
CloudEvent = dict[str, Any]

# Every event promoflow records has this source, and a type under this prefix.
SOURCE = "urn:promoflow"
TYPE_PREFIX = "io.promoflow."


@dataclass
class InboundResult:
    """What a feed of position updates did: applied records, quarantined batches."""

    applied: int = 0
    batches: int = 0
    quarantined: list[int] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

"""What crosses the integration layer's boundary: its vocabularies and the shapes it returns."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any, TypedDict


class DeadLetterKind(StrEnum):
    """`dead_letter`: valid but kept failing; `quarantine`: malformed, refused up front."""

    DEAD_LETTER = "dead_letter"
    QUARANTINE = "quarantine"


class DeadLetterStatus(StrEnum):
    OPEN = "open"
    REPLAYED = "replayed"
    DISCARDED = "discarded"


class SyncCapability(StrEnum):
    """What a sync pulls from a connection into promoflow."""

    INVENTORY = "inventory"
    ITEM_MASTER = "item_master"
    PURCHASE_ORDERS = "purchase_orders"
    SALES_FEED = "sales_feed"
    SUPPLIER_COLLABORATION = "supplier_collaboration"


DEAD_LETTER_KINDS: tuple[str, ...] = tuple(kind.value for kind in DeadLetterKind)
DEAD_LETTER_STATUSES: tuple[str, ...] = tuple(status.value for status in DeadLetterStatus)
CIRCUIT_STATES = ("closed", "open", "half_open")
CLAIM_STATES = ("claimed", "done", "released")
SYNC_CAPABILITIES: tuple[str, ...] = tuple(c.value for c in SyncCapability)


class DeadLetterView(TypedDict):
    """A dead letter as the CLI and API show it."""

    id: int
    kind: str
    source: str
    operation: str
    key: str | None
    payload: dict[str, Any]
    reason: str
    attempts: int
    status: str
    replayable: bool
    created_at: str
    resolved_at: str | None
    resolved_by: str | None
    resolution_detail: str


@dataclass(frozen=True)
class SyncResult:
    """What one sync run applied."""

    connection: str
    capability: str
    pages: int
    records: int
    seconds: float

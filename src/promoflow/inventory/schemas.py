"""What crosses the inventory package's boundary: order vocabularies and returned shapes."""

from __future__ import annotations

from enum import StrEnum
from typing import TypedDict


class AckStatus(StrEnum):
    """Where a supplier stands on a purchase order."""

    PENDING = "pending"
    ACKNOWLEDGED = "acknowledged"
    PARTIAL = "partial"
    REJECTED = "rejected"


class PurchaseOrderStatus(StrEnum):
    OPEN = "open"
    CANCELLED = "cancelled"
    RECEIVED = "received"


ACK_STATUSES: tuple[str, ...] = tuple(status.value for status in AckStatus)
# The stock figures of a position, each a finite non-negative number of units.
QUANTITIES = ("on_hand", "on_order", "in_transit", "allocated")


class OpenPurchaseOrder(TypedDict):
    """A promotion's purchase order still open, as its withdrawal or review reads it."""

    number: str
    ack_status: str
    supplier: str
    destination: str
    due: str  # ISO date
    lines: list[list[str | float]]  # [sku, units]: confirmed units, or ordered until confirmed

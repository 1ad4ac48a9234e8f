"""Typed ports, one per capability an external system can provide.

The workflow's steps talk to these Protocols only; `connectors.registry` picks the
implementation (the sandbox estate by default, a real system by configuration).
Every call that changes something carries an idempotency key so a retried or
replayed step never applies twice.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Protocol, runtime_checkable


class ConnectorError(Exception):
    """A call to an external system failed; `retryable` says whether to try again."""

    def __init__(self, system: str, message: str, *, retryable: bool = True) -> None:
        super().__init__(f"{system}: {message}")
        self.system = system
        self.message = message
        self.retryable = retryable

    def __reduce__(self) -> tuple[Any, ...]:
        # DBOS pickles step errors into its checkpoints; keep every field across that.
        return (self.__class__, (self.system, self.message), {"retryable": self.retryable})


class ConnectorUnavailable(ConnectorError):
    """The system is down (outage window, circuit open, connection refused)."""


@dataclass(frozen=True)
class PriceChange:
    """A promo price for one item at one location on one channel over a window."""

    sku: str
    location_code: str
    channel: str
    price: Decimal
    regular_price: Decimal
    start: date
    end: date


@dataclass(frozen=True)
class PublicationReceipt:
    key: str
    system: str
    accepted: int
    external_ref: str
    duplicate: bool = False


@dataclass(frozen=True)
class StoreTaskRequest:
    location_code: str
    kind: str
    promotion_code: str
    due: date


@dataclass(frozen=True)
class PositionRecord:
    sku: str
    location_code: str
    on_hand: float
    on_order: float
    in_transit: float
    allocated: float
    as_of: datetime
    source: str


@dataclass(frozen=True)
class PurchaseOrderRequest:
    number: str
    supplier_code: str
    destination_code: str
    due: date
    lines: tuple[tuple[str, float], ...]  # (sku, quantity)


@dataclass(frozen=True)
class PurchaseOrderAck:
    number: str
    status: str  # acknowledged | partial | rejected
    confirmed: tuple[tuple[str, float], ...] = field(default_factory=tuple)
    acknowledged_at: datetime | None = None


@dataclass(frozen=True)
class SalesRecord:
    sku: str
    location_code: str
    day: date
    units: float
    revenue: Decimal


@runtime_checkable
class PricePublisher(Protocol):
    """A channel that activates prices: POS price management, e-commerce pricing."""

    system: str

    def publish_prices(self, key: str, changes: list[PriceChange]) -> PublicationReceipt:
        """Apply all changes atomically once per key; a repeated key returns the first receipt."""
        ...

    def revert_prices(self, key: str) -> PublicationReceipt:
        """Withdraw what `key` published (compensation on cancel)."""
        ...


@runtime_checkable
class StoreTaskSystem(Protocol):
    system: str

    def create_tasks(self, key: str, tasks: list[StoreTaskRequest]) -> PublicationReceipt:
        """Create store tasks (signage, display) once per key."""
        ...


@runtime_checkable
class InventorySource(Protocol):
    system: str

    def fetch_positions(self, skus: list[str], location_codes: list[str]) -> list[PositionRecord]:
        """Current inventory positions for the given item x location scope."""
        ...


@runtime_checkable
class PurchaseOrderSystem(Protocol):
    system: str

    def submit_purchase_order(self, key: str, order: PurchaseOrderRequest) -> str:
        """Send a PO to the supplier once per key; returns the supplier's reference."""
        ...

    def acknowledgements(self, numbers: list[str]) -> list[PurchaseOrderAck]:
        """Acknowledgements received so far for the given PO numbers."""
        ...


@runtime_checkable
class SalesFeed(Protocol):
    system: str

    def sales(
        self, skus: list[str], location_codes: list[str], start: date, end: date
    ) -> list[SalesRecord]:
        """Point-of-sale actuals for the scope and dates."""
        ...


@runtime_checkable
class ItemMaster(Protocol):
    system: str

    def changed_items(self, since: datetime | None) -> list[dict[str, object]]:
        """Item master records changed since a time (None = all)."""
        ...


@runtime_checkable
class FinancePosting(Protocol):
    system: str

    def post_promotion_result(
        self, key: str, promotion_code: str, margin: Decimal, vendor_funding: Decimal
    ) -> str:
        """Post the promotion's realised margin and vendor funding claim once per key."""
        ...

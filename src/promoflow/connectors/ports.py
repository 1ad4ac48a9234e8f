"""Typed ports, one per capability an external system can provide.

The workflow's steps talk to these Protocols only; `connectors.registry` picks the
implementation (the sandbox estate by default, a real system by configuration).
Every call that changes something carries an idempotency key so a retried or
replayed step never applies twice.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
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


class MalformedPayload(ConnectorError):
    """The system answered with data we cannot map (a bad field, a partial page).

    Never retried: the same request gets the same answer. `payload` is what was
    received (kept for quarantine); `field` and `value` name what was wrong.
    """

    def __init__(
        self,
        system: str,
        message: str,
        *,
        payload: Any = None,
        field: str = "",
        value: Any = None,
    ) -> None:
        super().__init__(system, message, retryable=False)
        self.payload = payload
        self.field = field
        self.value = value

    def __reduce__(self) -> tuple[Any, ...]:
        return (
            self.__class__,
            (self.system, self.message),
            {"retryable": False, "payload": self.payload, "field": self.field, "value": self.value},
        )


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


CANCELLATION_OUTCOMES = ("cancelled", "confirmed", "refused", "unsupported")


@dataclass(frozen=True)
class PurchaseOrderCancellation:
    """What a system did when asked to cancel one of our purchase orders.

    - cancelled: the order is cancelled there (by this call or before it), or the
      system never received it: nothing of it will arrive.
    - confirmed: the supplier has confirmed it, so the system keeps it; a person
      has to agree a cancellation with the supplier.
    - refused: the system would not cancel it (`detail` says why).
    - unsupported: the system offers no cancellation through its API.
    """

    number: str
    outcome: str
    detail: str = ""

    def __post_init__(self) -> None:
        if self.outcome not in CANCELLATION_OUTCOMES:
            raise ValueError(f"outcome={self.outcome!r}: one of {CANCELLATION_OUTCOMES}")


@dataclass(frozen=True)
class SalesRecord:
    sku: str
    location_code: str
    day: date
    units: float
    revenue: Decimal


@dataclass(frozen=True)
class ItemRecord:
    """An item as an item master describes it, mapped to our canonical fields."""

    sku: str
    name: str
    status: str = "active"  # active | inactive | discontinued
    department: str = ""
    category: str = ""
    subcategory: str = ""
    brand: str = ""
    unit_cost: Decimal | None = None
    regular_price: Decimal | None = None
    case_pack: int | None = None
    gtin: str | None = None
    supplier_code: str | None = None
    source: str = ""


def item_change(record: ItemRecord) -> dict[str, object]:
    """The item-master change shape (`ItemMaster.changed_items`): amounts as strings."""
    values: dict[str, object] = asdict(record)
    for key in ("unit_cost", "regular_price"):
        if values[key] is not None:
            values[key] = str(values[key])
    return values


@dataclass(frozen=True)
class SupplierStockRecord:
    """A supplier's stock of an item available to us (EDI 846 / INVRPT)."""

    supplier_code: str
    sku: str
    available: float
    as_of: datetime
    gtin: str | None = None


@dataclass(frozen=True)
class CatalogPriceRecord:
    """A supplier's price catalogue line (EDI 832 / PRICAT): our cost of an item."""

    supplier_code: str
    sku: str
    unit_cost: Decimal
    currency: str
    valid_from: date | None = None
    gtin: str | None = None


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

    def cancel_purchase_order(self, key: str, number: str) -> PurchaseOrderCancellation:
        """Cancel our PO `number` unless its supplier confirmed it; a repeat changes nothing."""
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


@runtime_checkable
class ItemStream(Protocol):
    """An item master that can stream its records page by page (for a full sync)."""

    system: str

    def stream_items(self, since: datetime | None) -> Iterator[Sequence[ItemRecord]]:
        """Pages of item records changed since a time (None = all), in the system's order."""
        ...


@runtime_checkable
class PositionStream(Protocol):
    """An inventory system that can stream every position page by page (for a full sync)."""

    system: str

    def stream_positions(
        self, location_codes: Sequence[str] | None = None
    ) -> Iterator[Sequence[PositionRecord]]:
        """Pages of positions, optionally for some locations only; memory stays one page."""
        ...


@runtime_checkable
class StockTransferSystem(Protocol):
    """A WMS that moves stock between locations (DC to store allocations)."""

    system: str

    def transfer_stock(
        self, key: str, transfers: list[tuple[str, str, str, float]]
    ) -> list[PositionRecord]:
        """Ship (sku, from, to, units) once per key; returns the positions it touched."""
        ...


@runtime_checkable
class SupplierCollaboration(Protocol):
    """What suppliers tell us and we tell them beyond orders: stock, prices, sell-through."""

    system: str

    def supplier_stock(self) -> list[SupplierStockRecord]:
        """Inventory advice received from suppliers (X12 846, EDIFACT INVRPT)."""
        ...

    def price_catalogue(self) -> list[CatalogPriceRecord]:
        """Price catalogue lines received from suppliers (X12 832, EDIFACT PRICAT)."""
        ...

    def send_product_activity(
        self, key: str, supplier_code: str, sales: list[SalesRecord]
    ) -> PublicationReceipt:
        """Report sell-through to a supplier once per key (X12 852, EDIFACT SLSRPT)."""
        ...


@runtime_checkable
class Acknowledging(Protocol):
    """A source that keeps what it handed out until told it was applied (drop folders).

    The sync calls `acknowledge()` after its transaction committed; a source that
    is never acknowledged hands the same data out again on the next run.
    """

    def acknowledge(self) -> None:
        """Everything returned so far is stored: archive it, never hand it out again."""
        ...

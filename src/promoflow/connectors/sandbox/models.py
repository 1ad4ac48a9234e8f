"""State of the sandbox systems (they keep it in the database so it survives a crash).

These tables belong to the pretend external systems, not to promoflow: they are
keyed by SKU and location code (what a real POS or WMS knows), never by our ids.
They sit on `DemoBase`, apart from the production `Base`: the demo migration
branch (`migrations/demo/`) creates them, never a production `db upgrade`.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from promoflow.kit.db import NAMING_CONVENTION
from promoflow.kit.types import JsonDict, JsonList, Timestamp, UtcDateTime

REQUEST_OUTCOMES = ("applied", "duplicate", "rejected", "error", "outage")


class DemoBase(DeclarativeBase):
    """Base of the sandbox and scenario tables: a metadata of their own.

    Kept apart from `kit.db.Base` so that nothing built from the production
    metadata (migrations, drift checks, `create_all`) ever includes a demo table,
    whichever modules happen to be imported. Same naming convention, so the
    constraint names match what the migrations create.
    """

    metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)


class SandboxRequest(DemoBase):
    """Every call a sandbox system received, with what it did about it."""

    __tablename__ = "sandbox_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    system: Mapped[str] = mapped_column(sa.String(40))
    operation: Mapped[str] = mapped_column(sa.String(40))
    key: Mapped[str] = mapped_column(sa.String(200))
    outcome: Mapped[str] = mapped_column(sa.String(16))
    detail: Mapped[str] = mapped_column(sa.Text, default="")
    at: Mapped[Timestamp]

    __table_args__ = (sa.Index("ix_sandbox_requests_system_key", "system", "operation", "key"),)


class SandboxReceipt(DemoBase):
    """The first answer to an idempotent call; a repeated key gets it back."""

    __tablename__ = "sandbox_receipts"

    id: Mapped[int] = mapped_column(primary_key=True)
    system: Mapped[str] = mapped_column(sa.String(40))
    operation: Mapped[str] = mapped_column(sa.String(40))
    key: Mapped[str] = mapped_column(sa.String(200))
    accepted: Mapped[int]
    external_ref: Mapped[str] = mapped_column(sa.String(80))
    created_at: Mapped[Timestamp]

    __table_args__ = (sa.UniqueConstraint("system", "operation", "key"),)


class SandboxChannelPrice(DemoBase):
    """A price a POS or web shop activated for one SKU at one location."""

    __tablename__ = "sandbox_channel_prices"

    id: Mapped[int] = mapped_column(primary_key=True)
    system: Mapped[str] = mapped_column(sa.String(40))
    location_code: Mapped[str] = mapped_column(sa.String(32))
    sku: Mapped[str] = mapped_column(sa.String(32))
    price: Mapped[Decimal] = mapped_column(sa.Numeric(12, 2))
    regular_price: Mapped[Decimal] = mapped_column(sa.Numeric(12, 2))
    start: Mapped[date] = mapped_column(sa.Date)
    end: Mapped[date] = mapped_column(sa.Date)
    publication_key: Mapped[str] = mapped_column(sa.String(200))
    applied_at: Mapped[Timestamp]
    reverted_at: Mapped[datetime | None] = mapped_column(UtcDateTime())

    __table_args__ = (
        sa.UniqueConstraint("system", "publication_key", "sku", "location_code"),
        sa.Index("ix_sandbox_channel_prices_lookup", "system", "sku", "location_code"),
    )


class SandboxFault(DemoBase):
    """Fault injection for one system, read on every call so another process can change it."""

    __tablename__ = "sandbox_faults"

    system: Mapped[str] = mapped_column(sa.String(40), primary_key=True)
    latency_ms: Mapped[int] = mapped_column(default=0)
    error_rate: Mapped[float] = mapped_column(default=0.0)
    outages: Mapped[JsonList]  # [[start_iso, end_iso], ...] in UTC
    fail_next: Mapped[int] = mapped_column(default=0)
    seed: Mapped[int] = mapped_column(default=0)
    updated_at: Mapped[Timestamp]


class SandboxStoreTask(DemoBase):
    """A task the store-operations system sent to a store (signage, display build)."""

    __tablename__ = "sandbox_store_tasks"

    id: Mapped[int] = mapped_column(primary_key=True)
    request_key: Mapped[str] = mapped_column(sa.String(200))
    location_code: Mapped[str] = mapped_column(sa.String(32))
    kind: Mapped[str] = mapped_column(sa.String(32))
    promotion_code: Mapped[str] = mapped_column(sa.String(40), index=True)
    due: Mapped[date] = mapped_column(sa.Date)
    status: Mapped[str] = mapped_column(sa.String(16), default="open")
    confirmed_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    created_at: Mapped[Timestamp]

    __table_args__ = (sa.UniqueConstraint("request_key", "location_code", "kind"),)


class SandboxStock(DemoBase):
    """Stock as the warehouse-management system sees it."""

    __tablename__ = "sandbox_stock"

    sku: Mapped[str] = mapped_column(sa.String(32), primary_key=True)
    location_code: Mapped[str] = mapped_column(sa.String(32), primary_key=True)
    on_hand: Mapped[float] = mapped_column(default=0.0)
    on_order: Mapped[float] = mapped_column(default=0.0)
    in_transit: Mapped[float] = mapped_column(default=0.0)
    allocated: Mapped[float] = mapped_column(default=0.0)
    updated_at: Mapped[Timestamp]


class SandboxPurchaseOrder(DemoBase):
    """A purchase order as the supplier portal received it."""

    __tablename__ = "sandbox_purchase_orders"

    number: Mapped[str] = mapped_column(sa.String(40), primary_key=True)
    request_key: Mapped[str] = mapped_column(sa.String(200), unique=True)
    supplier_code: Mapped[str] = mapped_column(sa.String(32), index=True)
    destination_code: Mapped[str] = mapped_column(sa.String(32))
    due: Mapped[date] = mapped_column(sa.Date)
    lines: Mapped[JsonList]  # [[sku, quantity], ...]
    external_ref: Mapped[str] = mapped_column(sa.String(80))
    submitted_at: Mapped[Timestamp]
    cancelled_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class SandboxSupplierBehaviour(DemoBase):
    """How a supplier answers purchase orders in the sandbox."""

    __tablename__ = "sandbox_supplier_behaviour"

    supplier_code: Mapped[str] = mapped_column(sa.String(32), primary_key=True)
    ack_after_seconds: Mapped[float] = mapped_column(default=0.0)
    fill_rate: Mapped[float] = mapped_column(default=1.0)
    never_ack: Mapped[bool] = mapped_column(default=False)


class SandboxFinancePosting(DemoBase):
    """A promotion result posted to the ERP's general ledger."""

    __tablename__ = "sandbox_finance_postings"

    id: Mapped[int] = mapped_column(primary_key=True)
    request_key: Mapped[str] = mapped_column(sa.String(200), unique=True)
    promotion_code: Mapped[str] = mapped_column(sa.String(40))
    margin: Mapped[Decimal] = mapped_column(sa.Numeric(14, 2))
    vendor_funding: Mapped[Decimal] = mapped_column(sa.Numeric(14, 2))
    document_number: Mapped[str] = mapped_column(sa.String(40))
    posted_at: Mapped[Timestamp]


class SandboxItemChange(DemoBase):
    """A change to an item in the sandbox ERP's item master (what changed_items reports)."""

    __tablename__ = "sandbox_item_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    sku: Mapped[str] = mapped_column(sa.String(32), index=True)
    fields: Mapped[JsonDict]
    changed_at: Mapped[Timestamp]

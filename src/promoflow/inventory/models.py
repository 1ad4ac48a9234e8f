"""Inventory positions, purchase orders with acknowledgement, weekly sales."""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from promoflow.inventory.schemas import ACK_STATUSES  # noqa: F401  (re-exported)
from promoflow.kit.db import Base
from promoflow.kit.types import Timestamp, UtcDateTime


class InventoryPosition(Base):
    """Stock of one item at one location as last reported by its source system."""

    __tablename__ = "inventory_positions"

    item_id: Mapped[int] = mapped_column(sa.ForeignKey("items.id"), primary_key=True)
    location_id: Mapped[int] = mapped_column(sa.ForeignKey("locations.id"), primary_key=True)
    on_hand: Mapped[float] = mapped_column(default=0.0)
    on_order: Mapped[float] = mapped_column(default=0.0)
    in_transit: Mapped[float] = mapped_column(default=0.0)
    allocated: Mapped[float] = mapped_column(default=0.0)
    as_of: Mapped[Timestamp]
    source: Mapped[str] = mapped_column(sa.String(32), default="sandbox")


class PurchaseOrder(Base):
    __tablename__ = "purchase_orders"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(sa.String(40), unique=True)
    supplier_id: Mapped[int] = mapped_column(sa.ForeignKey("suppliers.id"), index=True)
    destination_id: Mapped[int] = mapped_column(sa.ForeignKey("locations.id"))
    promotion_id: Mapped[int | None] = mapped_column(sa.ForeignKey("promotions.id"), index=True)
    status: Mapped[str] = mapped_column(sa.String(16), default="open")
    ack_status: Mapped[str] = mapped_column(sa.String(16), default="pending")
    ordered_at: Mapped[Timestamp]
    ack_due_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    acknowledged_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    due_date: Mapped[date] = mapped_column(sa.Date)

    __table_args__ = (
        sa.CheckConstraint(
            "ack_status IN ('pending','acknowledged','partial','rejected')", name="ack_status"
        ),
    )


class PurchaseOrderLine(Base):
    __tablename__ = "purchase_order_lines"

    id: Mapped[int] = mapped_column(primary_key=True)
    purchase_order_id: Mapped[int] = mapped_column(
        sa.ForeignKey("purchase_orders.id", ondelete="CASCADE"), index=True
    )
    item_id: Mapped[int] = mapped_column(sa.ForeignKey("items.id"))
    quantity: Mapped[float]
    confirmed_quantity: Mapped[float | None]
    received_quantity: Mapped[float] = mapped_column(default=0.0)

    __table_args__ = (sa.CheckConstraint("quantity > 0", name="quantity_positive"),)


class WeeklySales(Base):
    """Sales history at item x location x week; `stockout` marks censored weeks."""

    __tablename__ = "weekly_sales"

    item_id: Mapped[int] = mapped_column(sa.ForeignKey("items.id"), primary_key=True)
    location_id: Mapped[int] = mapped_column(sa.ForeignKey("locations.id"), primary_key=True)
    week: Mapped[date] = mapped_column(sa.Date, primary_key=True)
    units: Mapped[float]
    price: Mapped[float]
    on_promo: Mapped[bool] = mapped_column(default=False)
    mechanic: Mapped[str | None] = mapped_column(sa.String(16))
    display: Mapped[bool] = mapped_column(default=False)
    feature: Mapped[bool] = mapped_column(default=False)
    stockout: Mapped[bool] = mapped_column(default=False)

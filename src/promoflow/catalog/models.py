"""Master data: items with hierarchy, locations, suppliers, ranging, prices."""

from __future__ import annotations

from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from promoflow.catalog.schemas import (  # noqa: F401  (the vocabularies, re-exported)
    CHANNELS,
    ITEM_STATUSES,
    LOCATION_KINDS,
)
from promoflow.kit.db import Base
from promoflow.kit.types import JsonDict, Money


class Supplier(Base):
    __tablename__ = "suppliers"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(32), unique=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    lead_time_days: Mapped[int] = mapped_column(default=14)
    weekly_capacity_units: Mapped[float] = mapped_column(default=100000.0)
    on_time_rate: Mapped[float] = mapped_column(default=0.95)
    fill_rate: Mapped[float] = mapped_column(default=0.97)


class Item(Base):
    """A SKU with its merchandise hierarchy, cost, regular price and eligibility."""

    __tablename__ = "items"

    id: Mapped[int] = mapped_column(primary_key=True)
    sku: Mapped[str] = mapped_column(sa.String(32), unique=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    department: Mapped[str] = mapped_column(sa.String(80))
    category: Mapped[str] = mapped_column(sa.String(80), index=True)
    subcategory: Mapped[str] = mapped_column(sa.String(80))
    brand: Mapped[str] = mapped_column(sa.String(80), default="")
    supplier_id: Mapped[int | None] = mapped_column(sa.ForeignKey("suppliers.id"))
    unit_cost: Mapped[Money]
    regular_price: Mapped[Money]
    status: Mapped[str] = mapped_column(sa.String(16), default="active")
    # Restricted items (alcohol, tobacco, infant formula...) may not be discounted.
    restricted: Mapped[bool] = mapped_column(default=False)
    promo_eligible: Mapped[bool] = mapped_column(default=True)
    case_pack: Mapped[int] = mapped_column(default=12)
    attributes: Mapped[JsonDict]

    __table_args__ = (
        sa.CheckConstraint("status IN ('active','inactive','discontinued')", name="status"),
    )


class Location(Base):
    """A store, distribution centre or e-commerce node."""

    __tablename__ = "locations"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(32), unique=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    kind: Mapped[str] = mapped_column(sa.String(16))
    region: Mapped[str] = mapped_column(sa.String(64), index=True)
    banner: Mapped[str] = mapped_column(sa.String(64), default="")
    price_zone: Mapped[str] = mapped_column(sa.String(32), default="national")
    serving_dc_id: Mapped[int | None] = mapped_column(sa.ForeignKey("locations.id"))
    capacity_units: Mapped[float] = mapped_column(default=0.0)
    attributes: Mapped[JsonDict]

    __table_args__ = (sa.CheckConstraint("kind IN ('store','dc','ecommerce')", name="kind"),)


class Ranging(Base):
    """Which items a location carries (its assortment)."""

    __tablename__ = "ranging"

    item_id: Mapped[int] = mapped_column(sa.ForeignKey("items.id"), primary_key=True)
    location_id: Mapped[int] = mapped_column(sa.ForeignKey("locations.id"), primary_key=True)


class Price(Base):
    """A selling price for item x (zone or location) x channel over effective dates."""

    __tablename__ = "prices"

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(sa.ForeignKey("items.id"), index=True)
    channel: Mapped[str] = mapped_column(sa.String(16))
    price_zone: Mapped[str | None] = mapped_column(sa.String(32))
    location_id: Mapped[int | None] = mapped_column(sa.ForeignKey("locations.id"))
    amount: Mapped[Money]
    kind: Mapped[str] = mapped_column(sa.String(16), default="regular")
    promotion_id: Mapped[int | None] = mapped_column(sa.ForeignKey("promotions.id"))
    effective_from: Mapped[date] = mapped_column(sa.Date)
    effective_to: Mapped[date | None] = mapped_column(sa.Date)

    __table_args__ = (
        sa.CheckConstraint("amount >= 0", name="amount_not_negative"),
        sa.CheckConstraint("kind IN ('regular','promo')", name="kind"),
    )

    def as_dict(self) -> dict[str, Any]:
        return {
            "item_id": self.item_id,
            "channel": self.channel,
            "amount": str(self.amount),
            "kind": self.kind,
        }

"""Promotion, its revisions, scope (items, locations) and validation findings."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from promoflow.kit.db import Base
from promoflow.kit.types import JsonDict, JsonList, Timestamp
from promoflow.promotions.states import STATES as STATES  # re-exported for existing imports
from promoflow.promotions.states import TERMINAL_STATES as TERMINAL_STATES
from promoflow.promotions.states import PromotionState

MECHANICS = ("percent_off", "amount_off", "fixed_price", "multi_buy", "bundle")


class Promotion(Base):
    """A promotion as it stands at its current revision."""

    __tablename__ = "promotions"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(40), unique=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    description: Mapped[str] = mapped_column(sa.Text, default="")
    status: Mapped[str] = mapped_column(sa.String(16), default=PromotionState.DRAFT, index=True)
    status_reason: Mapped[str] = mapped_column(sa.Text, default="")
    revision: Mapped[int] = mapped_column(default=1)
    requested_by: Mapped[str] = mapped_column(sa.String(80))
    category: Mapped[str] = mapped_column(sa.String(80), default="")
    mechanic: Mapped[str] = mapped_column(sa.String(16))
    discount_percent: Mapped[Decimal | None] = mapped_column(sa.Numeric(5, 2))
    discount_amount: Mapped[Decimal | None] = mapped_column(sa.Numeric(12, 2))
    fixed_price: Mapped[Decimal | None] = mapped_column(sa.Numeric(12, 2))
    buy_quantity: Mapped[int | None]
    get_quantity: Mapped[int | None]
    bundle_price: Mapped[Decimal | None] = mapped_column(sa.Numeric(12, 2))
    start_date: Mapped[date] = mapped_column(sa.Date)
    end_date: Mapped[date] = mapped_column(sa.Date)
    channels: Mapped[JsonList]
    display_support: Mapped[bool] = mapped_column(default=False)
    feature_support: Mapped[bool] = mapped_column(default=False)
    vendor_funding_per_unit: Mapped[Decimal] = mapped_column(sa.Numeric(12, 2), default=0)
    # Lifecycle timing chosen at submission (see lifecycle.timing): kept so the
    # workflow and the UI agree on when launch and end happen.
    timing: Mapped[JsonDict]
    workflow_id: Mapped[str | None] = mapped_column(sa.String(80))
    created_at: Mapped[Timestamp]
    updated_at: Mapped[Timestamp]
    # Bumped by every ORM UPDATE, which also checks it (see kit/preconditions.py): the ETag.
    row_version: Mapped[int] = mapped_column(default=1, server_default="1")

    __table_args__ = (
        sa.CheckConstraint("end_date >= start_date", name="dates_ordered"),
        sa.CheckConstraint(
            "mechanic IN ('percent_off','amount_off','fixed_price','multi_buy','bundle')",
            name="mechanic",
        ),
    )

    __mapper_args__ = {"version_id_col": row_version}  # noqa: RUF012 (SQLAlchemy reads it once)


class PromotionRevision(Base):
    """An immutable snapshot of the promotion as submitted at one revision."""

    __tablename__ = "promotion_revisions"

    promotion_id: Mapped[int] = mapped_column(sa.ForeignKey("promotions.id"), primary_key=True)
    revision: Mapped[int] = mapped_column(primary_key=True)
    snapshot: Mapped[JsonDict]
    created_by: Mapped[str] = mapped_column(sa.String(80))
    created_at: Mapped[Timestamp]


class PromotionItem(Base):
    __tablename__ = "promotion_items"

    promotion_id: Mapped[int] = mapped_column(
        sa.ForeignKey("promotions.id", ondelete="CASCADE"), primary_key=True
    )
    item_id: Mapped[int] = mapped_column(sa.ForeignKey("items.id"), primary_key=True)
    promo_price: Mapped[Decimal] = mapped_column(sa.Numeric(12, 2))


class PromotionLocation(Base):
    __tablename__ = "promotion_locations"

    promotion_id: Mapped[int] = mapped_column(
        sa.ForeignKey("promotions.id", ondelete="CASCADE"), primary_key=True
    )
    location_id: Mapped[int] = mapped_column(sa.ForeignKey("locations.id"), primary_key=True)


class ValidationFinding(Base):
    """One validation rule outcome; blocking findings stop the promotion."""

    __tablename__ = "validation_findings"

    id: Mapped[int] = mapped_column(primary_key=True)
    promotion_id: Mapped[int] = mapped_column(sa.ForeignKey("promotions.id"), index=True)
    revision: Mapped[int]
    rule: Mapped[str] = mapped_column(sa.String(48))
    severity: Mapped[str] = mapped_column(sa.String(16))
    item_sku: Mapped[str | None] = mapped_column(sa.String(32))
    location_code: Mapped[str | None] = mapped_column(sa.String(32))
    message: Mapped[str] = mapped_column(sa.Text)
    details: Mapped[JsonDict]
    created_at: Mapped[Timestamp]

    def as_dict(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "severity": self.severity,
            "item": self.item_sku,
            "location": self.location_code,
            "message": self.message,
        }


class ForecastLine(Base):
    """Forecast over the promotion window for one item x location, with its model."""

    __tablename__ = "promotion_forecasts"

    promotion_id: Mapped[int] = mapped_column(sa.ForeignKey("promotions.id"), primary_key=True)
    revision: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(sa.ForeignKey("items.id"), primary_key=True)
    location_id: Mapped[int] = mapped_column(sa.ForeignKey("locations.id"), primary_key=True)
    baseline_units: Mapped[float]
    promoted_units: Mapped[float]
    p10: Mapped[float]
    p50: Mapped[float]
    p80: Mapped[float] = mapped_column(server_default=sa.literal_column("0"))
    p90: Mapped[float]
    model_version: Mapped[str] = mapped_column(sa.String(64))
    inputs_hash: Mapped[str] = mapped_column(sa.String(64))

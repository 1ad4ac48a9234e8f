"""Publications per promotion revision x channel, and store readiness tasks."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from promoflow.kit.db import Base
from promoflow.kit.types import Timestamp, UtcDateTime
from promoflow.publications.schemas import PublicationStatus, StoreTaskStatus

PUBLICATION_CHANNELS = ("pos", "ecommerce", "signage")


class Publication(Base):
    """One channel's publication of one promotion revision; the key makes it idempotent."""

    __tablename__ = "publications"

    id: Mapped[int] = mapped_column(primary_key=True)
    promotion_id: Mapped[int] = mapped_column(sa.ForeignKey("promotions.id"), index=True)
    revision: Mapped[int]
    channel: Mapped[str] = mapped_column(sa.String(16))
    publication_key: Mapped[str] = mapped_column(sa.String(120), unique=True)
    status: Mapped[str] = mapped_column(sa.String(16), default=PublicationStatus.PENDING)
    attempts: Mapped[int] = mapped_column(default=0)
    item_count: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str] = mapped_column(sa.Text, default="")
    external_ref: Mapped[str | None] = mapped_column(sa.String(120))
    published_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    created_at: Mapped[Timestamp]


class StoreTask(Base):
    """A readiness task for one store (signage, display build) that store ops confirm."""

    __tablename__ = "store_tasks"

    id: Mapped[int] = mapped_column(primary_key=True)
    promotion_id: Mapped[int] = mapped_column(sa.ForeignKey("promotions.id"), index=True)
    revision: Mapped[int]
    location_id: Mapped[int] = mapped_column(sa.ForeignKey("locations.id"))
    kind: Mapped[str] = mapped_column(sa.String(32))
    status: Mapped[str] = mapped_column(sa.String(16), default=StoreTaskStatus.OPEN)
    confirmed_by: Mapped[str | None] = mapped_column(sa.String(80))
    confirmed_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    created_at: Mapped[Timestamp]

    __table_args__ = (sa.UniqueConstraint("promotion_id", "revision", "location_id", "kind"),)

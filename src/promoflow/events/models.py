"""The event log row: immutable, CloudEvents-shaped, and the outbox for relays."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from promoflow.kit.db import Base
from promoflow.kit.types import JsonDict, Timestamp, UtcDateTime


class Event(Base):
    __tablename__ = "events"

    sequence: Mapped[int] = mapped_column(
        sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    id: Mapped[str] = mapped_column(sa.String(40), unique=True)
    source: Mapped[str] = mapped_column(sa.String(120))
    type: Mapped[str] = mapped_column(sa.String(120), index=True)
    subject: Mapped[str] = mapped_column(sa.String(200), index=True)
    time: Mapped[Timestamp]
    actor: Mapped[str] = mapped_column(sa.String(80), default="system")
    promotion_id: Mapped[int | None] = mapped_column(index=True)
    data: Mapped[JsonDict]
    relayed_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), index=True)

    def as_cloudevent(self) -> dict[str, Any]:
        """The CloudEvents 1.0 JSON form of this event."""
        return {
            "specversion": "1.0",
            "id": self.id,
            "source": self.source,
            "type": self.type,
            "subject": self.subject,
            "time": self.time.isoformat(),
            "datacontenttype": "application/json",
            "data": self.data,
        }

"""The idempotency key table: one row per (caller, key), in flight or with its answer."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from promoflow.kit.db import Base
from promoflow.kit.types import UtcDateTime

BigId = sa.BigInteger().with_variant(sa.Integer, "sqlite")


class IdempotencyKey(Base):
    """A key a caller sent: claimed while its request runs, then holding the answer.

    `status` is None while the request is in flight. The unique (caller, key) pair
    is the claim: whichever insert commits first owns the key, in every process
    sharing the database.
    """

    __tablename__ = "idempotency_keys"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    # A digest of the caller's authentication method and subject: keys of two
    # callers never meet, and the table holds no identity or credential.
    caller: Mapped[str] = mapped_column(sa.String(64))
    key: Mapped[str] = mapped_column(sa.String(255))
    fingerprint: Mapped[str] = mapped_column(sa.String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)
    status: Mapped[int | None]
    headers: Mapped[dict[str, str] | None] = mapped_column(sa.JSON)
    body: Mapped[bytes | None] = mapped_column(sa.LargeBinary)
    completed_at: Mapped[datetime | None] = mapped_column(UtcDateTime())

    __table_args__ = (sa.UniqueConstraint("caller", "key"),)

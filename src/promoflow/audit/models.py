"""The audit tables: append-only records, the chain's head, signed checkpoints.

The database refuses UPDATE and DELETE on `audit_records` and
`audit_checkpoints` (triggers, migration 0009); the hash chain still shows what
someone with the rights to drop those triggers did.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from promoflow.kit.db import Base
from promoflow.kit.types import UtcDateTime

BigId = sa.BigInteger().with_variant(sa.Integer, "sqlite")


class AuditRecord(Base):
    """One audited action: who, what, on which object, before and after, and the outcome."""

    __tablename__ = "audit_records"

    sequence: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=False)
    id: Mapped[str] = mapped_column(sa.String(36), unique=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)
    actor_subject: Mapped[str | None] = mapped_column(sa.String(200))
    actor_name: Mapped[str | None] = mapped_column(sa.String(200), index=True)
    role: Mapped[str | None] = mapped_column(sa.String(40))
    banners: Mapped[list[str]] = mapped_column(sa.JSON)
    channel: Mapped[str] = mapped_column(sa.String(10))
    action: Mapped[str] = mapped_column(sa.String(200))
    route: Mapped[str | None] = mapped_column(sa.String(300))
    object_type: Mapped[str | None] = mapped_column(sa.String(60))
    object_ref: Mapped[str | None] = mapped_column(sa.String(200))
    before: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON)
    after: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON)
    reason: Mapped[str] = mapped_column(sa.Text)
    request_id: Mapped[str | None] = mapped_column(sa.String(128))
    outcome: Mapped[str] = mapped_column(sa.String(10))
    status: Mapped[int | None]
    prev_hash: Mapped[str] = mapped_column(sa.String(64))
    hash: Mapped[str] = mapped_column(sa.String(64), unique=True)

    __table_args__ = (sa.Index("ix_audit_records_object", "object_type", "object_ref"),)


class AuditHead(Base):
    """The chain's last link, one row: appenders lock it, so two writers never fork the chain."""

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    sequence: Mapped[int] = mapped_column(BigId)
    hash: Mapped[str] = mapped_column(sa.String(64))


class AuditCheckpoint(Base):
    """An Ed25519 signature over (sequence, hash): the chain up to there cannot be redone unseen."""

    __tablename__ = "audit_checkpoints"

    sequence: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=False)
    hash: Mapped[str] = mapped_column(sa.String(64))
    signed_at: Mapped[datetime] = mapped_column(UtcDateTime())
    key_id: Mapped[str] = mapped_column(sa.String(64))
    signature: Mapped[str] = mapped_column(sa.String(128))

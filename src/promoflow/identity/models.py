"""The API key records: a key's hash, never the key."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from promoflow.kit.db import Base
from promoflow.kit.types import JsonList, Timestamp, UtcDateTime


class ApiKey(Base):
    """One integration client's key: its public id, the SHA-256 of the key, its scope.

    `banners` is the list of banner names, or `["*"]` for every banner.
    """

    __tablename__ = "api_keys"

    key_id: Mapped[str] = mapped_column(sa.String(16), primary_key=True)
    secret_sha256: Mapped[str] = mapped_column(sa.String(64))
    name: Mapped[str] = mapped_column(sa.String(80))
    role: Mapped[str] = mapped_column(sa.String(32))
    banners: Mapped[JsonList]
    created_by: Mapped[str] = mapped_column(sa.String(80))
    created_at: Mapped[Timestamp]
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    revoked_by: Mapped[str | None] = mapped_column(sa.String(80))
    last_used_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class ConsoleSession(Base):
    """A web console sign-in: who signed in, and until when the cookie stands for them.

    The cookie holds a random token; only its SHA-256 is stored, so a copy of the
    table signs nobody in. `credential_id` names the API key the person signed in
    with (or the token's jti), so a revoked key ends its console sessions too.
    """

    __tablename__ = "console_sessions"

    id: Mapped[int] = mapped_column(
        sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    token_sha256: Mapped[str] = mapped_column(sa.String(64), unique=True)
    csrf_token: Mapped[str] = mapped_column(sa.String(64))
    subject: Mapped[str] = mapped_column(sa.String(200))
    name: Mapped[str] = mapped_column(sa.String(80))
    role: Mapped[str] = mapped_column(sa.String(32))
    banners: Mapped[JsonList]
    method: Mapped[str] = mapped_column(sa.String(16))
    credential_id: Mapped[str | None] = mapped_column(sa.String(200))
    created_at: Mapped[Timestamp]
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)
    ended_at: Mapped[datetime | None] = mapped_column(UtcDateTime())

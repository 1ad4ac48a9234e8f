"""Every query of the identity package."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from promoflow.identity.models import ApiKey, ConsoleSession


def add_key(session: Session, key: ApiKey) -> ApiKey:
    session.add(key)
    session.flush()
    return key


def get_key(session: Session, key_id: str, *, for_update: bool = False) -> ApiKey | None:
    query = sa.select(ApiKey).where(ApiKey.key_id == key_id)
    if for_update:
        query = query.with_for_update()
    return session.scalars(query).one_or_none()


def list_keys(session: Session, *, include_revoked: bool) -> Sequence[ApiKey]:
    query = sa.select(ApiKey).order_by(ApiKey.created_at, ApiKey.key_id)
    if not include_revoked:
        query = query.where(ApiKey.revoked_at.is_(None))
    return session.scalars(query).all()


def touch_key(session: Session, key_id: str, used_at: datetime) -> None:
    """Record a use; an older time never overwrites a newer one."""
    session.execute(
        sa.update(ApiKey)
        .where(ApiKey.key_id == key_id)
        .where(sa.or_(ApiKey.last_used_at.is_(None), ApiKey.last_used_at < used_at))
        .values(last_used_at=used_at)
    )


def add_console_session(session: Session, row: ConsoleSession) -> ConsoleSession:
    session.add(row)
    session.flush()
    return row


def console_session_by_token(session: Session, token_sha256: str) -> ConsoleSession | None:
    query = sa.select(ConsoleSession).where(ConsoleSession.token_sha256 == token_sha256)
    return session.scalars(query).one_or_none()


def end_console_sessions(
    session: Session, ended_at: datetime, *, token_sha256: str | None = None
) -> int:
    """End one session (by its token's hash) or, without one, every expired session."""
    query = sa.update(ConsoleSession).where(ConsoleSession.ended_at.is_(None))
    if token_sha256 is not None:
        query = query.where(ConsoleSession.token_sha256 == token_sha256)
    else:
        query = query.where(ConsoleSession.expires_at <= ended_at)
    result = session.execute(query.values(ended_at=ended_at))
    return int(getattr(result, "rowcount", 0) or 0)

"""Every query of the idempotency keys."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from promoflow.idempotency.models import IdempotencyKey


def find(session: Session, caller: str, key: str) -> IdempotencyKey | None:
    """The caller's row for `key`, read afresh (another process may have just written it)."""
    query = sa.select(IdempotencyKey).where(
        IdempotencyKey.caller == caller, IdempotencyKey.key == key
    )
    return session.scalars(query.execution_options(populate_existing=True)).one_or_none()


def try_insert(session: Session, row: IdempotencyKey) -> bool:
    """Insert `row` unless the (caller, key) pair exists; False when another request holds it.

    A savepoint keeps the caller's transaction usable after the unique violation
    (PostgreSQL aborts a transaction on any error otherwise).
    """
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError:
        return False
    return True


def delete(session: Session, row_id: int) -> None:
    session.execute(sa.delete(IdempotencyKey).where(IdempotencyKey.id == row_id))


def delete_expired(session: Session, row_id: int, now: datetime) -> None:
    """Delete the row if it has expired (a concurrent request may have renewed it since)."""
    session.execute(
        sa.delete(IdempotencyKey).where(
            IdempotencyKey.id == row_id, IdempotencyKey.expires_at <= now
        )
    )


def complete(
    session: Session,
    row_id: int,
    *,
    status: int,
    headers: dict[str, str],
    body: bytes,
    now: datetime,
) -> int:
    """Store the answer on an in-flight row; the number of rows changed (0: it is gone)."""
    result = session.execute(
        sa.update(IdempotencyKey)
        .where(IdempotencyKey.id == row_id, IdempotencyKey.status.is_(None))
        .values(status=status, headers=headers, body=body, completed_at=now)
    )
    return int(getattr(result, "rowcount", 0) or 0)


def purge_expired(session: Session, now: datetime, limit: int) -> int:
    """Delete up to `limit` expired rows; rows another process is purging are skipped."""
    doomed = (
        sa.select(IdempotencyKey.id)
        .where(IdempotencyKey.expires_at <= now)
        .order_by(IdempotencyKey.id)
        .limit(limit)
        .with_for_update(skip_locked=True)  # PostgreSQL; SQLite has one writer anyway
    )
    ids = list(session.scalars(doomed))
    if ids:
        session.execute(sa.delete(IdempotencyKey).where(IdempotencyKey.id.in_(ids)))
    return len(ids)

"""Every query of the audit log."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from promoflow.audit.models import AuditCheckpoint, AuditHead, AuditRecord

HEAD_ID = 1


def head(session: Session, *, for_update: bool = False) -> AuditHead | None:
    """The chain's last link; with for_update the row stays locked until the caller commits.

    That lock is what serialises appenders on PostgreSQL. On SQLite every writing
    transaction already holds the database's write lock (BEGIN IMMEDIATE).
    """
    query = sa.select(AuditHead).where(AuditHead.id == HEAD_ID)
    if for_update:
        query = query.with_for_update()
    return session.scalars(query).one_or_none()


def add(session: Session, record: AuditRecord) -> None:
    session.add(record)
    session.flush()


def add_checkpoint(session: Session, checkpoint: AuditCheckpoint) -> None:
    session.add(checkpoint)
    session.flush()


def walk(session: Session, chunk: int = 1000) -> Iterator[AuditRecord]:
    """Every record in sequence order, read a chunk at a time (the log can be long)."""
    after = None
    while True:
        query = sa.select(AuditRecord).order_by(AuditRecord.sequence).limit(chunk)
        if after is not None:
            query = query.where(AuditRecord.sequence > after)
        rows = session.scalars(query).all()
        yield from rows
        if len(rows) < chunk:
            return
        after = rows[-1].sequence
        session.expunge_all()


def by_sequence(session: Session, sequence: int) -> AuditRecord | None:
    return session.scalars(sa.select(AuditRecord).where(AuditRecord.sequence == sequence)).first()


def where_hash(session: Session, hashes: Sequence[str]) -> dict[str, int]:
    """The sequence of each record whose stored hash is one of `hashes`."""
    rows = session.execute(
        sa.select(AuditRecord.hash, AuditRecord.sequence).where(AuditRecord.hash.in_(hashes))
    )
    return {chain_hash: sequence for chain_hash, sequence in rows}


def where_prev_hash(session: Session, prev_hash: str) -> Sequence[AuditRecord]:
    return session.scalars(sa.select(AuditRecord).where(AuditRecord.prev_hash == prev_hash)).all()


def checkpoints(session: Session) -> Sequence[AuditCheckpoint]:
    return session.scalars(sa.select(AuditCheckpoint).order_by(AuditCheckpoint.sequence)).all()


def page(
    session: Session,
    *,
    after: int,
    limit: int,
    actor: str | None = None,
    object_type: str | None = None,
    object_ref: str | None = None,
    outcome: str | None = None,
    request_id: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> Sequence[AuditRecord]:
    """Records after sequence `after`, oldest first, filtered."""
    query = sa.select(AuditRecord).where(AuditRecord.sequence > after)
    if actor is not None:
        query = query.where(
            sa.or_(AuditRecord.actor_name == actor, AuditRecord.actor_subject == actor)
        )
    if object_type is not None:
        query = query.where(AuditRecord.object_type == object_type)
    if object_ref is not None:
        query = query.where(AuditRecord.object_ref == object_ref)
    if outcome is not None:
        query = query.where(AuditRecord.outcome == outcome)
    if request_id is not None:
        query = query.where(AuditRecord.request_id == request_id)
    if since is not None:
        query = query.where(AuditRecord.at >= since)
    if until is not None:
        query = query.where(AuditRecord.at < until)
    return session.scalars(query.order_by(AuditRecord.sequence).limit(limit)).all()

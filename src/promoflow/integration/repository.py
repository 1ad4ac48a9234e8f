"""Every query of the integration layer: connections, health, dead letters, inbox, claims."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from promoflow.integration.models import (
    Connection,
    ConnectorHealth,
    DeadLetter,
    OutboundClaim,
    ProcessedEvent,
)
from promoflow.kit import keyset

# Connections ---------------------------------------------------------------------


def get_connection(session: Session, name: str) -> Connection | None:
    return session.get(Connection, name)


def all_connections(session: Session) -> Sequence[Connection]:
    """Every configured connection, by name."""
    return session.scalars(sa.select(Connection).order_by(Connection.name)).all()


def enabled_connections(session: Session, *, other_than: str | None = None) -> Sequence[Connection]:
    """The enabled connections, leaving out `other_than` when given."""
    query = sa.select(Connection).where(Connection.enabled.is_(True))
    if other_than is not None:
        query = query.where(Connection.name != other_than)
    return session.scalars(query).all()


def connection_rates(session: Session) -> list[tuple[str, float | None]]:
    """(name, rate limit per second) of every configured connection."""
    rows = session.execute(sa.select(Connection.name, Connection.rate_limit_per_second)).all()
    return [(name, rate) for name, rate in rows]


def get_health(session: Session, connection: str) -> ConnectorHealth | None:
    return session.get(ConnectorHealth, connection)


def all_health(session: Session) -> dict[str, ConnectorHealth]:
    """The health row of every connection that has made a call, by connection name."""
    return {h.connection: h for h in session.scalars(sa.select(ConnectorHealth))}


# Dead letters --------------------------------------------------------------------


def get_dead_letter(session: Session, letter_id: int) -> DeadLetter | None:
    return session.get(DeadLetter, letter_id)


def dead_letters(
    session: Session,
    *,
    status: str | None,
    kind: str | None,
    source: str | None,
    limit: int,
    before: int | None = None,
) -> Sequence[DeadLetter]:
    """Newest first (older than id `before` when given), filtered by what is given."""
    query = sa.select(DeadLetter).order_by(DeadLetter.id.desc()).limit(limit)
    if before is not None:
        query = query.where(keyset.after([DeadLetter.id], (before,), descending=True))
    if status is not None:
        query = query.where(DeadLetter.status == status)
    if kind is not None:
        query = query.where(DeadLetter.kind == kind)
    if source is not None:
        query = query.where(DeadLetter.source == source)
    return session.scalars(query).all()


# The consumers' inbox ------------------------------------------------------------


def processed_event(session: Session, consumer: str, event_id: str) -> ProcessedEvent | None:
    return session.get(ProcessedEvent, (consumer, event_id))


def delete_processed_event(session: Session, consumer: str, event_id: str) -> None:
    session.execute(
        sa.delete(ProcessedEvent).where(
            ProcessedEvent.consumer == consumer, ProcessedEvent.event_id == event_id
        )
    )


# Outbound claims -----------------------------------------------------------------


def find_claim(session: Session, connection: str, operation: str, key: str) -> OutboundClaim | None:
    return session.scalars(
        sa.select(OutboundClaim).where(
            OutboundClaim.connection == connection,
            OutboundClaim.operation == operation,
            OutboundClaim.key == key,
        )
    ).first()


def add_claim(
    session: Session,
    connection: str,
    operation: str,
    key: str,
    holder: str,
    claimed_at: datetime,
    lease_until: datetime,
) -> int:
    """Insert a new claim held by `holder` (IntegrityError when another worker was first)."""
    row = OutboundClaim(
        connection=connection,
        operation=operation,
        key=key,
        state="claimed",
        holder=holder,
        claimed_at=claimed_at,
        lease_until=lease_until,
    )
    session.add(row)
    session.flush()
    return row.id


def take_over_claim(
    session: Session, claim_id: int, holder: str, lease_until: datetime, now: datetime
) -> bool:
    """Compare-and-set: of two workers taking over the same lapsed claim, one wins."""
    taken = session.execute(
        sa.update(OutboundClaim)
        .where(
            OutboundClaim.id == claim_id,
            OutboundClaim.state != "done",
            sa.or_(OutboundClaim.state == "released", OutboundClaim.lease_until < now),
        )
        .values(
            state="claimed",
            holder=holder,
            lease_until=lease_until,
            attempts=OutboundClaim.attempts + 1,
        )
        .execution_options(synchronize_session=False)
    )
    return getattr(taken, "rowcount", 0) == 1


def finish_claim(
    session: Session, claim_id: int, holder: str, finished_at: datetime, values: dict[str, Any]
) -> None:
    """Close the claim, if `holder` still holds it."""
    session.execute(
        sa.update(OutboundClaim)
        .where(OutboundClaim.id == claim_id, OutboundClaim.holder == holder)
        .values(finished_at=finished_at, **values)
        .execution_options(synchronize_session=False)
    )


def renew_claim(session: Session, claim_id: int, holder: str, lease_until: datetime) -> None:
    """Push the lease of a claim `holder` still holds out to `lease_until`."""
    session.execute(
        sa.update(OutboundClaim)
        .where(
            OutboundClaim.id == claim_id,
            OutboundClaim.holder == holder,
            OutboundClaim.state == "claimed",
        )
        .values(lease_until=lease_until)
        .execution_options(synchronize_session=False)
    )

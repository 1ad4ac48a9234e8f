"""Every query of the event log."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from promoflow.events.models import Event


def add(session: Session, event: Event) -> None:
    """Append an event to the log (the outbox) in the caller's transaction."""
    session.add(event)


def unrelayed(session: Session, limit: int) -> Sequence[Event]:
    """The oldest events not yet relayed to the bus, in log order."""
    return session.scalars(
        sa.select(Event).where(Event.relayed_at.is_(None)).order_by(Event.sequence).limit(limit)
    ).all()


def mark_relayed(session: Session, event_ids: Sequence[str], at: datetime) -> None:
    session.execute(sa.update(Event).where(Event.id.in_(event_ids)).values(relayed_at=at))


def outbox_backlog(session: Session) -> tuple[int, datetime | None]:
    """How many events wait to be relayed, and when the oldest of them happened."""
    count, oldest = session.execute(
        sa.select(sa.func.count(), sa.func.min(Event.time)).where(Event.relayed_at.is_(None))
    ).one()
    return int(count), oldest

"""The event log's rules: append an event with the state it describes; hand the outbox on."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC
from typing import Any

from sqlalchemy.orm import Session

from promoflow.events import repository
from promoflow.events.models import Event
from promoflow.events.schemas import SOURCE, TYPE_PREFIX, CloudEvent
from promoflow.kit.clock import utcnow


def record_event(
    session: Session,
    type_: str,
    subject: str,
    data: dict[str, Any],
    *,
    promotion_id: int | None = None,
    actor: str = "system",
) -> Event:
    """Add an immutable event in the same transaction as the state it describes."""
    event = Event(
        id=str(uuid.uuid4()),
        source=SOURCE,
        type=TYPE_PREFIX + type_,
        subject=subject,
        time=utcnow(),
        actor=actor,
        promotion_id=promotion_id,
        data=data,
    )
    repository.add(session, event)
    return event


def pending_cloudevents(session: Session, batch: int) -> list[CloudEvent]:
    """The oldest unrelayed events (at most `batch`) in their CloudEvents JSON form."""
    return [row.as_cloudevent() for row in repository.unrelayed(session, batch)]


def mark_relayed(session: Session, event_ids: Sequence[str]) -> None:
    """The bus accepted these events: they leave the outbox."""
    repository.mark_relayed(session, event_ids, utcnow())


def outbox_lag(session: Session) -> tuple[int, float]:
    """Events not yet relayed, and the age in seconds of the oldest (0 when none wait)."""
    count, oldest = repository.outbox_backlog(session)
    if oldest is None:
        return count, 0.0
    if oldest.tzinfo is None:  # SQLite hands back naive UTC
        oldest = oldest.replace(tzinfo=UTC)
    return count, max(0.0, (utcnow() - oldest).total_seconds())

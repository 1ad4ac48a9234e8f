"""Append events to the log inside the caller's transaction (the outbox)."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.orm import Session

from promoflow.events.models import Event
from promoflow.kit.clock import utcnow

SOURCE = "urn:promoflow"
TYPE_PREFIX = "io.promoflow."


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
    session.add(event)
    return event

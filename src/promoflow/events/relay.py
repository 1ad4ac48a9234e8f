"""Relay the outbox (unrelayed rows of the event log) to the bus, at least once."""

from __future__ import annotations

import threading

import sqlalchemy as sa
from sqlalchemy.orm import Session, sessionmaker

from promoflow.events.bus import EventBus
from promoflow.events.models import Event
from promoflow.kit.clock import utcnow
from promoflow.kit.db import reading, transaction
from promoflow.kit.logging import get_logger

log = get_logger(__name__)


def relay_pending(sessions: sessionmaker[Session], bus: EventBus, batch: int = 500) -> int:
    """Publish the oldest unrelayed events, then mark them relayed.

    Only what the bus accepted (JetStream: acknowledged) is marked, after publishing,
    so a crash in between re-publishes rather than loses: JetStream drops the repeat
    by its `Nats-Msg-Id`, and consumers dedupe on the event id anyway. Returns how
    many were accepted; fewer than read means the bus is struggling.
    """
    with reading(sessions) as session:
        rows = session.scalars(
            sa.select(Event).where(Event.relayed_at.is_(None)).order_by(Event.sequence).limit(batch)
        ).all()
        events = [row.as_cloudevent() for row in rows]
    accepted = bus.publish_batch(events) if events else []
    if accepted:
        with transaction(sessions) as session:
            session.execute(
                sa.update(Event).where(Event.id.in_(accepted)).values(relayed_at=utcnow())
            )
    return len(accepted)


class OutboxRelay:
    """A background thread that relays the outbox every `interval` seconds."""

    def __init__(
        self, sessions: sessionmaker[Session], bus: EventBus, interval: float = 0.2
    ) -> None:
        self._sessions = sessions
        self._bus = bus
        self._interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="outbox-relay", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                while relay_pending(self._sessions, self._bus) and not self._stop.is_set():
                    pass
            except Exception as error:  # keep relaying; the rows stay in the outbox
                log.error("outbox_relay_failed", error=str(error))
            self._stop.wait(self._interval)

"""Relay the outbox (unrelayed rows of the event log) to the bus, at least once."""

from __future__ import annotations

import threading

from sqlalchemy.orm import Session, sessionmaker

from promoflow.events import service
from promoflow.events.bus import EventBus
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
        events = service.pending_cloudevents(session, batch)
    accepted = bus.publish_batch(events) if events else []
    if accepted:
        with transaction(sessions) as session:
            service.mark_relayed(session, accepted)
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

"""Idempotent event consumers: each event is applied once per consumer, or dead-lettered.

A consumer's handler runs inside one transaction that also writes the consumer's
inbox row (`processed_events`), so a redelivered event (a relay that crashed
before marking, JetStream redelivering an unacked message) is skipped, and a
handler's database writes commit together with the proof that they happened.

Effects outside the database (waking a workflow) wait for that commit
(`Delivery.after_commit`); if one fails the inbox row is removed again so the
event is retried, which makes them at-least-once: they must be idempotent, as a
wake-up is (the workflow re-reads the database).

A handler that keeps failing is retried a few times (the bus decides how) and then
kept as a dead letter with the event whole; its replayer re-runs the same consumer.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from promoflow.events.schemas import CloudEvent
from promoflow.integration import service as inbox
from promoflow.integration.deadletters import record_dead_letter, register_replayer
from promoflow.integration.models import DeadLetter
from promoflow.integration.schemas import DeadLetterKind
from promoflow.kit.db import reading, transaction
from promoflow.kit.logging import get_logger

__all__ = ["CloudEvent", "Consumer", "Delivery", "Dispatcher", "consume", "dead_letter"]
log = get_logger(__name__)


class Delivery:
    """One event handed to one consumer, with the transaction its effects belong in."""

    def __init__(self, event: CloudEvent, session: Session, prepared: Any = None) -> None:
        self.event = event
        self.session = session
        self.prepared = prepared  # what the consumer's `prepare` read before the transaction
        self.effects: list[Callable[[], None]] = []

    @property
    def data(self) -> dict[str, Any]:
        data: dict[str, Any] = self.event.get("data") or {}
        return data

    def after_commit(self, effect: Callable[[], None]) -> None:
        """Run `effect` once the transaction has committed (idempotent effects only)."""
        self.effects.append(effect)


Handler = Callable[[Delivery], None]


@dataclass(frozen=True)
class Consumer:
    """A durable subscriber: its name keys the inbox and the NATS durable consumer."""

    name: str
    event_type: str
    handler: Handler
    description: str = ""
    # Reads that must not hold the transaction open (another system, another
    # session): run first, result handed to the handler as `delivery.prepared`.
    prepare: Callable[[CloudEvent], Any] | None = None

    @property
    def operation(self) -> str:
        """The dead-letter operation whose replayer re-runs this consumer."""
        return f"event.{self.name}"


def consume(sessions: sessionmaker[Session], consumer: Consumer, event: CloudEvent) -> bool:
    """Apply `event` through `consumer` once; False when it was applied before."""
    name, event_id = consumer.name, str(event["id"])
    prepared = None
    if consumer.prepare is not None:
        with reading(sessions) as session:
            if inbox.already_processed(session, name, event_id):
                return False
        prepared = consumer.prepare(event)
    with transaction(sessions) as session:
        if inbox.already_processed(session, name, event_id):
            return False
        delivery = Delivery(event, session, prepared)
        consumer.handler(delivery)
        inbox.mark_processed(session, name, event_id)
    try:
        for effect in delivery.effects:
            effect()
    except Exception:
        with transaction(sessions) as session:
            inbox.forget_processed(session, name, event_id)
        raise
    return True


def dead_letter(
    sessions: sessionmaker[Session],
    consumer: Consumer,
    event: CloudEvent,
    error: BaseException,
    attempts: int,
) -> int:
    """Keep an event whose consumer kept failing; returns the dead letter's id."""
    reason = (
        f"consumer {consumer.name} failed {attempts} time(s) on {event.get('type')}: "
        f"{type(error).__name__}: {error}"
    )
    with transaction(sessions) as session:
        letter = record_dead_letter(
            session,
            kind=DeadLetterKind.DEAD_LETTER.value,
            source=f"consumer:{consumer.name}"[:80],
            operation=consumer.operation,
            payload=event,
            reason=reason,
            key=str(event.get("id")),
            attempts=attempts,
        )
        letter_id = letter.id
    log.error("event_dead_lettered", consumer=consumer.name, id=event.get("id"), reason=reason)
    return letter_id


class Dispatcher:
    """The consumers a bus delivers to, and how each delivery is applied once."""

    def __init__(self, sessions: sessionmaker[Session], max_attempts: int = 5) -> None:
        self.sessions = sessions
        self.max_attempts = max_attempts
        self.consumers: list[Consumer] = []

    def add(self, consumer: Consumer) -> None:
        """Subscribe a consumer and make its dead letters replayable."""
        if any(c.name == consumer.name for c in self.consumers):
            raise ValueError(f"consumer name {consumer.name!r} is already subscribed")
        self.consumers.append(consumer)
        register_replayer(consumer.operation, self._replayer(consumer))

    def matching(self, event_type: str) -> list[Consumer]:
        return [c for c in self.consumers if c.event_type == event_type]

    def apply(self, consumer: Consumer, event: CloudEvent) -> bool:
        return consume(self.sessions, consumer, event)

    def give_up(self, consumer: Consumer, event: CloudEvent, error: BaseException, n: int) -> int:
        return dead_letter(self.sessions, consumer, event, error, n)

    def _replayer(self, consumer: Consumer) -> Callable[[DeadLetter], str]:
        def replay(letter: DeadLetter) -> str:
            applied = consume(self.sessions, consumer, dict(letter.payload))
            event_id = letter.payload.get("id")
            if not applied:
                return f"event {event_id} was already applied by {consumer.name}"
            return f"event {event_id} applied by {consumer.name}"

        return replay

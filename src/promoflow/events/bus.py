"""Event buses the outbox is relayed to: in-process (embedded) or NATS JetStream (scaled).

Both deliver each event to the same consumers (`events.consumers`), once per consumer
through its inbox; they differ in where retries wait and who keeps the stream.
"""

from __future__ import annotations

import time
from typing import Protocol

from promoflow.events.consumers import CloudEvent, Consumer, Dispatcher
from promoflow.kit.logging import get_logger

log = get_logger(__name__)


class EventBus(Protocol):
    """What the relay and the runtime need from a bus."""

    dispatcher: Dispatcher

    def subscribe(self, consumer: Consumer) -> None: ...

    def publish_batch(self, events: list[CloudEvent]) -> list[str]:
        """Hand events to the bus; returns the ids it accepted (the relay marks those)."""
        ...

    def start(self) -> None: ...

    def close(self) -> None: ...

    def check(self) -> None:
        """Raise unless the bus can take events now (what /readyz asks)."""
        ...


class InProcessBus:
    """Delivers each event to its consumers in this process, in order.

    A failing consumer is retried with a short backoff and then dead-lettered, so
    the event counts as delivered either way and one consumer never holds up others.
    """

    def __init__(self, dispatcher: Dispatcher, backoff_seconds: float = 0.02) -> None:
        self.dispatcher = dispatcher
        self._backoff = backoff_seconds

    def subscribe(self, consumer: Consumer) -> None:
        self.dispatcher.add(consumer)

    def publish(self, event: CloudEvent) -> None:
        """Deliver one event to every consumer of its type."""
        for consumer in self.dispatcher.matching(str(event["type"])):
            self._deliver(consumer, event)

    def publish_batch(self, events: list[CloudEvent]) -> list[str]:
        delivered = []
        for event in events:
            self.publish(event)
            delivered.append(str(event["id"]))
        return delivered

    def start(self) -> None:
        """Nothing to connect to."""

    def close(self) -> None:
        """Nothing to disconnect."""

    def check(self) -> None:
        """Always ready: it lives in this process."""

    def _deliver(self, consumer: Consumer, event: CloudEvent) -> None:
        attempts = self.dispatcher.max_attempts
        for attempt in range(1, attempts + 1):
            try:
                self.dispatcher.apply(consumer, event)
                return
            except Exception as error:
                log.warning(
                    "event_consumer_failed",
                    consumer=consumer.name,
                    id=event["id"],
                    attempt=attempt,
                    error=str(error),
                )
                if attempt == attempts:
                    self.dispatcher.give_up(consumer, event, error, attempt)
                    return
                time.sleep(self._backoff * 2 ** (attempt - 1))

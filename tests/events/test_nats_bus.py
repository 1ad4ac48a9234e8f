"""The outbox relayed to NATS JetStream and consumed by durable consumers, once each."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator

import pytest
import sqlalchemy as sa
from events_support import effects
from sqlalchemy.orm import Session, sessionmaker

from promoflow.events.consumers import Consumer, Delivery, Dispatcher
from promoflow.events.log import record_event
from promoflow.events.models import Event
from promoflow.events.nats_bus import NatsBus, NatsUnavailable
from promoflow.events.relay import relay_pending
from promoflow.integration.models import DeadLetter
from promoflow.kit.db import transaction

TYPE = "io.promoflow.purchase_order.acknowledged"


def recording(name: str, fail_always: bool = False) -> Consumer:
    def handler(delivery: Delivery) -> None:
        delivery.session.execute(
            sa.insert(effects).values(consumer=name, event_id=delivery.event["id"])
        )
        if fail_always:
            raise RuntimeError("the supplier gate service is down")

    return Consumer(name, TYPE, handler, "test consumer")


def applied(sessions: sessionmaker[Session], name: str) -> list[str]:
    with sessions() as session:
        return list(
            session.scalars(sa.select(effects.c.event_id).where(effects.c.consumer == name)).all()
        )


def wait_until(check: Callable[[], bool], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.05)
    raise AssertionError("timed out waiting")


def record(sessions: sessionmaker[Session], count: int) -> list[str]:
    with transaction(sessions) as session:
        return [
            record_event(
                session,
                "purchase_order.acknowledged",
                f"purchase_order/PO-{n}",
                {"number": f"PO-{n}", "status": "acknowledged", "promotion_id": None},
            ).id
            for n in range(count)
        ]


@pytest.fixture
def make_bus(sessions: sessionmaker[Session], nats_url: str) -> Iterator[Callable[..., NatsBus]]:
    """NatsBus on a stream and subjects of the test's own, deleted afterwards."""
    buses: list[NatsBus] = []
    tag = uuid.uuid4().hex[:8]

    def make(*consumers: Consumer, max_attempts: int = 3) -> NatsBus:
        bus = NatsBus(
            Dispatcher(sessions, max_attempts=max_attempts),
            nats_url,
            f"TEST_{tag}",
            ack_wait_seconds=2.0,
            retry_delay_seconds=0.05,
            subject_prefix=f"test{tag}.events.",
        )
        for consumer in consumers:
            bus.subscribe(consumer)
        bus.start()
        buses.append(bus)
        return bus

    yield make
    for bus in reversed(buses):
        if bus is buses[0]:
            bus.delete_stream()
        bus.close()


def test_relayed_events_reach_a_durable_consumer_once_even_if_republished(
    sessions: sessionmaker[Session], make_bus: Callable[..., NatsBus]
) -> None:
    bus = make_bus(recording("nats.once"))
    ids = record(sessions, 25)
    assert relay_pending(sessions, bus) == 25
    with sessions() as session:  # marked only after JetStream's acknowledgement
        assert session.scalar(sa.select(sa.func.count()).where(Event.relayed_at.is_(None))) == 0
        events = [e.as_cloudevent() for e in session.scalars(sa.select(Event)).all()]
    # A relay that crashed before marking publishes the same events again.
    assert sorted(bus.publish_batch(events)) == sorted(ids)
    assert bus.stream_messages() == 25  # JetStream dropped the repeats by Nats-Msg-Id
    wait_until(lambda: len(applied(sessions, "nats.once")) == 25)
    time.sleep(0.3)
    assert sorted(applied(sessions, "nats.once")) == sorted(ids)


def test_a_consumer_that_keeps_failing_is_dead_lettered_not_dropped(
    sessions: sessionmaker[Session], make_bus: Callable[..., NatsBus]
) -> None:
    bus = make_bus(recording("nats.failing", fail_always=True), max_attempts=3)
    [event_id] = record(sessions, 1)
    relay_pending(sessions, bus)

    def lettered() -> list[DeadLetter]:
        with sessions() as session:
            return list(session.scalars(sa.select(DeadLetter)).all())

    wait_until(lambda: bool(lettered()))
    [letter] = lettered()
    assert (letter.kind, letter.key, letter.attempts) == ("dead_letter", event_id, 3)
    assert letter.operation == "event.nats.failing"
    assert "the supplier gate service is down" in letter.reason
    assert applied(sessions, "nats.failing") == []  # every attempt rolled back


def test_an_unreachable_server_is_a_clear_error(sessions: sessionmaker[Session]) -> None:
    bus = NatsBus(Dispatcher(sessions), "nats://127.0.0.1:1", "NOWHERE")
    with pytest.raises(NatsUnavailable, match=r"nats://127.0.0.1:1 is not reachable"):
        bus.start()

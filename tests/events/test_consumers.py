"""Idempotent consumers: each event applied once, failures dead-lettered and replayable."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
import sqlalchemy as sa
from events_support import effects
from sqlalchemy.orm import Session, sessionmaker

from promoflow.events.bus import InProcessBus
from promoflow.events.consumers import Consumer, Delivery, Dispatcher, consume
from promoflow.events.log import record_event
from promoflow.events.models import Event
from promoflow.events.relay import relay_pending
from promoflow.integration import deadletters
from promoflow.integration.models import DeadLetter, ProcessedEvent
from promoflow.kit.db import transaction

TYPE = "io.promoflow.sales.reported"


def _event(**data: Any) -> dict[str, Any]:
    return {
        "specversion": "1.0",
        "id": str(uuid.uuid4()),
        "source": "urn:promoflow",
        "type": TYPE,
        "subject": "sales/test",
        "time": "2026-01-05T10:00:00+00:00",
        "data": data,
    }


def _counting(name: str, fail_times: int = 0, fail_after_commit: int = 0) -> Consumer:
    """A consumer that writes one effect row per application, failing its first calls."""
    calls = {"handler": 0, "after": 0}

    def handler(delivery: Delivery) -> None:
        calls["handler"] += 1
        delivery.session.execute(
            sa.insert(effects).values(consumer=name, event_id=delivery.event["id"])
        )
        if calls["handler"] <= fail_times:
            raise RuntimeError(f"downstream down (call {calls['handler']})")

        def after() -> None:
            calls["after"] += 1
            if calls["after"] <= fail_after_commit:
                raise RuntimeError("wake-up failed")

        delivery.after_commit(after)

    return Consumer(name, TYPE, handler, "test consumer")


def _applied(sessions: sessionmaker[Session], name: str) -> list[str]:
    with sessions() as session:
        return list(
            session.scalars(sa.select(effects.c.event_id).where(effects.c.consumer == name)).all()
        )


def test_a_redelivered_event_is_applied_once(sessions: sessionmaker[Session]) -> None:
    consumer = _counting("test.once")
    event = _event(count=1)
    assert consume(sessions, consumer, event) is True
    assert consume(sessions, consumer, event) is False  # relay crashed and re-published
    assert _applied(sessions, "test.once") == [event["id"]]


def test_a_failing_handler_leaves_nothing_and_the_retry_applies_once(
    sessions: sessionmaker[Session],
) -> None:
    consumer = _counting("test.retry", fail_times=1)
    event = _event()
    with pytest.raises(RuntimeError, match="downstream down"):
        consume(sessions, consumer, event)
    assert _applied(sessions, "test.retry") == []  # its write rolled back with the inbox row
    assert consume(sessions, consumer, event) is True
    assert _applied(sessions, "test.retry") == [event["id"]]


def test_a_failed_wake_up_is_retried_not_lost(sessions: sessionmaker[Session]) -> None:
    consumer = _counting("test.wake", fail_after_commit=1)
    event = _event()
    with pytest.raises(RuntimeError, match="wake-up failed"):
        consume(sessions, consumer, event)
    with sessions() as session:  # forgotten, so the bus delivers it again
        assert session.get(ProcessedEvent, ("test.wake", event["id"])) is None
    assert consume(sessions, consumer, event) is True


def test_the_in_process_bus_applies_relayed_events_once(sessions: sessionmaker[Session]) -> None:
    bus = InProcessBus(Dispatcher(sessions, max_attempts=3), backoff_seconds=0.0)
    bus.subscribe(_counting("test.relay"))
    with transaction(sessions) as session:
        ids = [record_event(session, "sales.reported", "sales/t", {"n": n}).id for n in range(3)]
    assert relay_pending(sessions, bus) == 3
    assert relay_pending(sessions, bus) == 0  # relayed rows are marked
    bus.publish_batch([_event() | {"id": ids[0]}])  # a re-publish after a crash
    assert sorted(_applied(sessions, "test.relay")) == sorted(ids)
    with sessions() as session:
        assert session.scalar(sa.select(sa.func.count()).where(Event.relayed_at.is_(None))) == 0


def test_a_consumer_that_keeps_failing_ends_as_a_replayable_dead_letter(
    sessions: sessionmaker[Session],
) -> None:
    bus = InProcessBus(Dispatcher(sessions, max_attempts=3), backoff_seconds=0.0)
    bus.subscribe(_counting("test.dead", fail_times=3))
    event = _event(count=7)
    assert bus.publish_batch([event]) == [event["id"]]  # delivered: kept, not lost
    assert _applied(sessions, "test.dead") == []
    with sessions() as session:
        letter = session.scalars(
            sa.select(DeadLetter).where(DeadLetter.source == "consumer:test.dead")
        ).one()
    assert letter.kind == "dead_letter"
    assert letter.attempts == 3
    assert letter.payload == event
    assert letter.key == event["id"]
    assert "downstream down (call 3)" in letter.reason
    assert deadletters.replayable(letter.operation)

    replayed = deadletters.replay(sessions, letter.id, "oliver.ops")
    assert replayed.status == "replayed"
    assert f"event {event['id']} applied by test.dead" in replayed.resolution_detail
    assert _applied(sessions, "test.dead") == [event["id"]]


def test_two_consumers_of_one_type_each_apply_it_once(sessions: sessionmaker[Session]) -> None:
    bus = InProcessBus(Dispatcher(sessions), backoff_seconds=0.0)
    bus.subscribe(_counting("test.a", fail_times=1))
    bus.subscribe(_counting("test.b"))
    event = _event()
    bus.publish_batch([event, event])
    assert _applied(sessions, "test.a") == [event["id"]]
    assert _applied(sessions, "test.b") == [event["id"]]

"""The claim ledger in front of creates sent to systems that take no idempotency key."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from promoflow.connectors.claims import ClaimPolicy, create_once
from promoflow.connectors.ports import ConnectorError, ConnectorUnavailable
from promoflow.integration.models import OutboundClaim
from promoflow.kit.clock import utcnow
from promoflow.kit.db import make_sessionmaker, transaction

QUICK = ClaimPolicy(lease_seconds=3.0, wait_seconds=10.0, poll_seconds=0.02)


@pytest.fixture(scope="module")
def sessions(private_engine: Callable[[str], Engine]) -> sessionmaker[Session]:
    return make_sessionmaker(private_engine("claims"))


def _claim(sessions: sessionmaker[Session], key: str) -> OutboundClaim:
    with sessions() as session:
        row = session.scalars(sa.select(OutboundClaim).where(OutboundClaim.key == key)).one()
        session.expunge(row)
        return row


def test_a_repeated_key_gets_the_first_result_without_a_second_call(
    sessions: sessionmaker[Session],
) -> None:
    calls: list[str] = []

    def create() -> str:
        calls.append("create")
        return f"4500000{len(calls)}"

    first = create_once(sessions, "erp", "submit_purchase_order", "k-repeat", create, QUICK)
    again = create_once(sessions, "erp", "submit_purchase_order", "k-repeat", create, QUICK)
    assert first == again == "45000001"
    assert calls == ["create"]
    assert _claim(sessions, "k-repeat").state == "done"


def test_a_second_caller_waits_for_the_holder_and_gets_its_result(
    sessions: sessionmaker[Session],
) -> None:
    inside = threading.Event()
    calls: list[str] = []

    def slow_create() -> str:
        calls.append("create")
        inside.set()
        time.sleep(0.5)
        return "4500000077"

    answers: list[str] = []
    holder = threading.Thread(
        target=lambda: answers.append(
            create_once(sessions, "erp", "submit_purchase_order", "k-wait", slow_create, QUICK)
        )
    )
    holder.start()
    assert inside.wait(5)
    second = create_once(sessions, "erp", "submit_purchase_order", "k-wait", slow_create, QUICK)
    holder.join(5)
    assert answers == [second] == ["4500000077"]
    assert calls == ["create"]


def test_a_failed_create_releases_the_claim_and_the_next_call_creates(
    sessions: sessionmaker[Session],
) -> None:
    def refused() -> str:
        raise ConnectorError("erp", "HTTP 503", retryable=True)

    with pytest.raises(ConnectorError):
        create_once(sessions, "erp", "submit_purchase_order", "k-fail", refused, QUICK)
    released = _claim(sessions, "k-fail")
    assert released.state == "released" and "HTTP 503" in released.detail
    assert create_once(sessions, "erp", "submit_purchase_order", "k-fail", lambda: "45", QUICK)
    done = _claim(sessions, "k-fail")
    assert (done.state, done.result, done.attempts) == ("done", "45", 2)


def test_a_claim_whose_holder_died_is_taken_over_once_its_lease_lapses(
    sessions: sessionmaker[Session],
) -> None:
    with transaction(sessions) as session:
        session.add(
            OutboundClaim(
                connection="erp",
                operation="submit_purchase_order",
                key="k-dead",
                state="claimed",
                holder="host/4242/1/dead",
                claimed_at=utcnow() - timedelta(minutes=5),
                lease_until=utcnow() + timedelta(seconds=0.3),
            )
        )
    # The dead holder's lease still runs: a caller waits, then takes over and creates.
    number = create_once(sessions, "erp", "submit_purchase_order", "k-dead", lambda: "46", QUICK)
    row = _claim(sessions, "k-dead")
    assert (number, row.state, row.attempts) == ("46", "done", 2)
    assert row.holder != "host/4242/1/dead"


def test_a_live_holder_that_takes_too_long_makes_the_caller_retry_later(
    sessions: sessionmaker[Session],
) -> None:
    with transaction(sessions) as session:
        session.add(
            OutboundClaim(
                connection="erp",
                operation="submit_purchase_order",
                key="k-busy",
                state="claimed",
                holder="host/4243/1/busy",
                claimed_at=utcnow(),
                lease_until=utcnow() + timedelta(minutes=5),
            )
        )
    patient = ClaimPolicy(lease_seconds=3.0, wait_seconds=0.3, poll_seconds=0.05)
    with pytest.raises(ConnectorUnavailable) as waited:
        create_once(sessions, "erp", "submit_purchase_order", "k-busy", lambda: "47", patient)
    assert waited.value.retryable and "host/4243/1/busy" in str(waited.value)

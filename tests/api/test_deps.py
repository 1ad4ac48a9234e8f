"""The request boundary owns the transaction (issue 11): api/deps' UnitOfWork.

A route that writes through `UnitOfWork` commits when it returns and rolls back
when it raises; the commit ends before the response is sent, so a commit that
fails is the answer (500), never a 200 for a write that did not happen.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator

import pytest
import sqlalchemy as sa
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from promoflow.api.deps import UnitOfWork, command_sessions
from promoflow.events.models import Event
from promoflow.kit.clock import utcnow
from promoflow.kit.db import make_sessionmaker


def _event(subject: str, event_id: str | None = None) -> Event:
    return Event(
        id=event_id or str(uuid.uuid4()),
        source="/promoflow/test",
        type="io.promoflow.test.written",
        subject=subject,
        time=utcnow(),
        actor="tester",
        data={},
    )


@pytest.fixture(scope="module")
def sessions(private_engine: Callable[[str], Engine]) -> sessionmaker[Session]:
    return make_sessionmaker(private_engine("api_unit_of_work"))


@pytest.fixture
def client(sessions: sessionmaker[Session]) -> Iterator[TestClient]:
    app = FastAPI()

    @app.post("/write/{subject}")
    def write(subject: str, session: UnitOfWork) -> dict[str, str]:
        session.add(_event(subject))
        return {"written": subject}

    @app.post("/refuse/{subject}")
    def refuse(subject: str, session: UnitOfWork) -> dict[str, str]:
        session.add(_event(subject))
        session.flush()
        raise ValueError("refused after writing")

    @app.post("/clash/{subject}")
    def clash(subject: str, session: UnitOfWork) -> dict[str, str]:
        # Two events with one id: nothing fails until the commit flushes them.
        same = str(uuid.uuid4())
        session.add_all([_event(subject, same), _event(subject, same)])
        return {"written": subject}

    app.dependency_overrides[command_sessions] = lambda: sessions
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


def _count(sessions: sessionmaker[Session], subject: str) -> int:
    with sessions() as session:
        found = session.scalar(
            sa.select(sa.func.count()).select_from(Event).where(Event.subject == subject)
        )
        return int(found or 0)


def test_a_route_that_returns_has_committed(
    client: TestClient, sessions: sessionmaker[Session]
) -> None:
    subject = f"test-{uuid.uuid4()}"
    answer = client.post(f"/write/{subject}")
    assert answer.status_code == 200
    assert _count(sessions, subject) == 1


def test_a_route_that_raises_leaves_nothing(
    client: TestClient, sessions: sessionmaker[Session]
) -> None:
    subject = f"test-{uuid.uuid4()}"
    answer = client.post(f"/refuse/{subject}")
    assert answer.status_code == 500
    assert _count(sessions, subject) == 0


def test_a_commit_that_fails_is_the_answer(
    client: TestClient, sessions: sessionmaker[Session]
) -> None:
    subject = f"test-{uuid.uuid4()}"
    answer = client.post(f"/clash/{subject}")
    assert answer.status_code == 500, "the client was told the write succeeded"
    assert _count(sessions, subject) == 0

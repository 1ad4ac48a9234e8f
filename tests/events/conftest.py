"""Event tests: a private database of their own, and the NATS server they need.

NATS tests use the server at 127.0.0.1:4222 (`PROMOFLOW_TEST_NATS_URL`); without it
they skip with the reason, except under CI=true, where they fail.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
import sqlalchemy as sa
from events_support import effects
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from nats_support import require_nats
from promoflow.kit.db import make_sessionmaker


@pytest.fixture(scope="session")
def events_engine(private_engine: Callable[[str], Engine]) -> Engine:
    engine = private_engine("events")
    effects.create(engine, checkfirst=True)
    return engine


@pytest.fixture
def sessions(events_engine: Engine) -> Iterator[sessionmaker[Session]]:
    """Sessions on the private database; the test's rows are removed afterwards."""
    yield make_sessionmaker(events_engine)
    with events_engine.begin() as conn:
        for table in ("test_consumer_effects", "processed_events", "dead_letters", "events"):
            conn.execute(sa.text(f"DELETE FROM {table}"))


@pytest.fixture
def nats_url() -> str:
    return require_nats()

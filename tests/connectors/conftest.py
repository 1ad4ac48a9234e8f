"""Fresh databases for sandbox tests, built from the models (no migrations needed).

The PostgreSQL pass (PROMOFLOW_TEST_BACKEND=postgresql) creates and drops a
database per fixture on the server at 127.0.0.1:5432.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from sandbox_support import BACKEND, PG_ADMIN_URL, TODAY, DatabaseFactory
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

import promoflow.schema
from promoflow.kit.db import make_engine, make_sessionmaker
from promoflow.scenario.generator import ScenarioSize, ScenarioSummary, generate


@pytest.fixture(scope="module")
def fresh_database(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DatabaseFactory]:
    """Makes empty databases with every table; all are dropped after the module."""
    engines: list[Engine] = []
    created: list[str] = []
    admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")

    def make() -> sessionmaker[Session]:
        if BACKEND == "postgresql":
            name = f"promoflow_sbx_{uuid.uuid4().hex[:10]}"
            try:
                with admin.connect() as conn:
                    conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
            except sa.exc.OperationalError as error:
                if os.environ.get("CI") == "true":
                    raise
                pytest.skip(f"PostgreSQL at {PG_ADMIN_URL} is not reachable: {error.orig}")
            created.append(name)
            url = sa.make_url(PG_ADMIN_URL).set(database=name).render_as_string(False)
        else:
            url = f"sqlite:///{tmp_path_factory.mktemp('sandbox') / 'promoflow.db'}"
        engine = make_engine(url)
        promoflow.schema.metadata.create_all(engine)
        engines.append(engine)
        return make_sessionmaker(engine)

    yield make
    for engine in engines:
        engine.dispose()
    with admin.connect() as conn:
        for name in created:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="module")
def small_retailer(
    fresh_database: DatabaseFactory,
) -> tuple[sessionmaker[Session], ScenarioSummary]:
    """The small retailer (10 stores, 60 SKUs, two years of weeks), seeded once per module."""
    sessions = fresh_database()
    return sessions, generate(sessions, ScenarioSize.small(), seed=7, today=TODAY)


@pytest.fixture
def retailer(
    small_retailer: tuple[sessionmaker[Session], ScenarioSummary],
) -> Iterator[sessionmaker[Session]]:
    """Sessions on the seeded retailer; every system is healthy again after the test."""
    from promoflow.connectors.sandbox.faults import clear_faults

    sessions = small_retailer[0]
    clear_faults(sessions)
    yield sessions
    clear_faults(sessions)

"""Shared fixtures: one database per test run, on SQLite or on real PostgreSQL.

`PROMOFLOW_TEST_BACKEND=postgresql` runs the database tests against the server on
127.0.0.1:5432 in a fresh database that is dropped afterwards. Without the server
they skip with the reason, except under CI=true, where they fail.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from promoflow.config import Settings, get_settings
from promoflow.kit.db import make_engine

BACKEND = os.environ.get("PROMOFLOW_TEST_BACKEND", "sqlite")
PG_ADMIN_URL = os.environ.get(
    "PROMOFLOW_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
DB_FIXTURES = {"db_url", "engine", "session", "runtime", "seeded"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test that touches the database also runs in the PostgreSQL pass."""
    for item in items:
        if DB_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.postgres)


def _postgres_url(tmp_name: str) -> Iterator[str]:
    admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{tmp_name}"'))
    except sa.exc.OperationalError as error:
        admin.dispose()
        if os.environ.get("CI") == "true":
            raise
        pytest.skip(f"PostgreSQL at {PG_ADMIN_URL} is not reachable: {error.orig}")
    url = sa.make_url(PG_ADMIN_URL).set(database=tmp_name)
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{tmp_name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session")
def db_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A fresh, empty database for this test run."""
    if BACKEND == "postgresql":
        yield from _postgres_url(f"promoflow_test_{uuid.uuid4().hex[:10]}")
    else:
        path: Path = tmp_path_factory.mktemp("db") / "promoflow.db"
        yield f"sqlite:///{path}"


@pytest.fixture(scope="session")
def test_settings(db_url: str, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return Settings(
        environment="test",
        database_url=db_url,
        data_dir=tmp_path_factory.mktemp("data"),
        executor_id="pytest",
        # One business hour = 50 ms: an 8 h approval SLA lapses in 0.4 s, long
        # enough for a test's desk to act first on a busy two-core machine.
        seconds_per_business_hour=0.05,
        notification_poll_seconds=0.05,
    )


@pytest.fixture(scope="session")
def runtime(test_settings: Settings) -> Iterator[object]:
    """The full runtime (database migrated, DBOS launched) shared by the run."""
    from promoflow.runtime import start_runtime, stop_runtime

    get_settings.cache_clear()
    os.environ["PROMOFLOW_DATABASE_URL"] = test_settings.resolved_database_url()
    rt = start_runtime(test_settings)
    yield rt
    stop_runtime()


@pytest.fixture(scope="session")
def engine(runtime: object) -> Engine:
    from promoflow.runtime import get_runtime

    return get_runtime().engine


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    """A session whose work is rolled back after the test (nothing leaks between tests)."""
    connection = engine.connect()
    transaction = connection.begin()
    db = Session(bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False)
    try:
        yield db
    finally:
        db.close()
        transaction.rollback()
        connection.close()


@pytest.fixture(scope="session")
def seeded(runtime: object) -> object:
    """A small seeded retailer (10 stores, 60 SKUs), generated once per run."""
    from promoflow.runtime import get_runtime
    from promoflow.scenario.generator import ScenarioSize, generate

    return generate(get_runtime().sessions, ScenarioSize.small(), seed=7)


def make_test_engine(url: str) -> Engine:
    return make_engine(url)

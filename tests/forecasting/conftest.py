"""Forecasting fixtures: a private database built from the models.

The database is this package's own (not the shared `db_url`), so create_all here
never collides with the migrated database the runtime tests use. Once the initial
migration exists these `engine`/`session` overrides can go and the root ones apply.
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

from promoflow.kit.db import make_engine
from promoflow.schema import metadata

BACKEND = os.environ.get("PROMOFLOW_TEST_BACKEND", "sqlite")
PG_ADMIN_URL = os.environ.get(
    "PROMOFLOW_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


def _postgres_database(name: str) -> Iterator[str]:
    admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    except sa.exc.OperationalError as error:
        admin.dispose()
        if os.environ.get("CI") == "true":
            raise
        pytest.skip(f"PostgreSQL at {PG_ADMIN_URL} is not reachable: {error.orig}")
    try:
        yield sa.make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session")
def forecasting_db_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """An empty database of its own for the forecasting tests."""
    if BACKEND == "postgresql":
        yield from _postgres_database(f"promoflow_test_fcst_{uuid.uuid4().hex[:10]}")
    else:
        path: Path = tmp_path_factory.mktemp("forecasting_db") / "forecasting.db"
        yield f"sqlite:///{path}"


@pytest.fixture(scope="session")
def engine(forecasting_db_url: str) -> Iterator[Engine]:
    built = make_engine(forecasting_db_url)
    metadata.create_all(built)
    yield built
    built.dispose()


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    """A session whose work is rolled back after the test."""
    connection = engine.connect()
    outer = connection.begin()
    db = Session(bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False)
    try:
        yield db
    finally:
        db.close()
        outer.rollback()
        connection.close()

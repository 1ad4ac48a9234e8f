"""Test databases on the chosen backend, shared by the root and package conftests.

`PROMOFLOW_TEST_BACKEND=postgresql` puts them on the server at 127.0.0.1:5432,
each a fresh database dropped afterwards; without the server they skip with the
reason, except under CI=true, where they fail.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

BACKEND = os.environ.get("PROMOFLOW_TEST_BACKEND", "sqlite")
PG_ADMIN_URL = os.environ.get(
    "PROMOFLOW_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


def _postgres_url(tmp_name: str) -> Iterator[str]:
    # No pool: an idle admin connection per live test database would add up over a
    # run and starve the process tests of PostgreSQL's max_connections.
    admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT", poolclass=sa.NullPool)
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


def fresh_database(tmp_path_factory: pytest.TempPathFactory, label: str) -> Iterator[str]:
    """A new empty database on the test backend, dropped afterwards."""
    if BACKEND == "postgresql":
        yield from _postgres_url(f"promoflow_test_{label}_{uuid.uuid4().hex[:8]}")
    else:
        path: Path = tmp_path_factory.mktemp(label) / "promoflow.db"
        yield f"sqlite:///{path}"


def rolled_back_session(engine: Engine) -> Iterator[Session]:
    """A session whose work is rolled back after the test (nothing leaks between tests)."""
    connection = engine.connect()
    outer = connection.begin()
    db = Session(bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False)
    try:
        yield db
    finally:
        db.close()
        outer.rollback()
        connection.close()


class DatabasePool:
    """Makes fresh migrated databases on the test backend and drops them on close."""

    def __init__(self, tmp_path_factory: pytest.TempPathFactory) -> None:
        self._tmp = tmp_path_factory
        self._stack = ExitStack()

    def new(self, label: str) -> Engine:
        """A new database with the whole schema (production and demo branches)."""
        from promoflow.kit.db import make_engine
        from promoflow.migrate import upgrade

        url = self._stack.enter_context(contextmanager(fresh_database)(self._tmp, label))
        engine = make_engine(url)
        self._stack.callback(engine.dispose)
        upgrade(engine, demo=True)
        return engine

    def close(self) -> None:
        self._stack.close()

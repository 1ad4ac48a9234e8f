"""Engine, session and declarative base shared by every domain package."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

from promoflow.kit.sqlite import writing_begins

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Declarative base with a naming convention so migrations are stable."""

    metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)


@dataclass(frozen=True)
class Pool:
    """How one engine's connections are shared, and how long anyone waits.

    `wait_seconds` bounds the wait for a free connection and `lock_seconds` the
    wait for a lock once connected (SQLite's busy timeout, PostgreSQL's
    lock_timeout), so a caller under load gets an error it can shed instead of
    hanging. `read_only` connections never take SQLite's write lock.
    """

    size: int = 5
    overflow: int = 10
    wait_seconds: float = 30.0
    lock_seconds: float = 30.0
    read_only: bool = False
    statement_seconds: float | None = None  # PostgreSQL statement_timeout; None = server's


def _sqlite_pragmas(pool: Pool) -> Any:
    def on_connect(dbapi_conn: Any, _record: Any) -> None:
        # WAL lets readers run beside the single writer; busy_timeout rides out the
        # writer lock instead of failing at once, for as long as the pool allows.
        dbapi_conn.isolation_level = None
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute(f"PRAGMA busy_timeout={int(pool.lock_seconds * 1000)}")
        cursor.execute("PRAGMA foreign_keys=ON")
        if pool.read_only:
            cursor.execute("PRAGMA query_only=ON")
        cursor.close()

    return on_connect


# An execution option: this connection's transactions only read (see `read_only`).
READ_ONLY = "promoflow_read_only"


def _sqlite_begin(pool: Pool, write: Callable[[Any], None]) -> Any:
    def begin(conn: Any) -> None:
        if pool.read_only or conn.get_execution_options().get(READ_ONLY, False):
            # A reader's snapshot: in WAL mode it neither waits for nor blocks the writer.
            conn.exec_driver_sql("BEGIN")
        else:
            # A writer takes its turn, then the write lock up front (IMMEDIATE), so two
            # writers never deadlock on a lock upgrade.
            write(conn)

    return begin


def _postgres_options(pool: Pool) -> str:
    options = [f"-c lock_timeout={int(pool.lock_seconds * 1000)}"]
    if pool.statement_seconds is not None:
        options.append(f"-c statement_timeout={int(pool.statement_seconds * 1000)}")
    if pool.read_only:
        options.append("-c default_transaction_read_only=on")
    return " ".join(options)


def make_engine(url: str, pool: Pool | None = None, **kwargs: Any) -> Engine:
    """Create an engine; SQLite gets WAL, a busy timeout and IMMEDIATE writes (deferred reads)."""
    pool = pool or Pool()
    kwargs.setdefault("pool_size", pool.size)
    kwargs.setdefault("max_overflow", pool.overflow)
    kwargs.setdefault("pool_timeout", pool.wait_seconds)
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = sa.create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": pool.lock_seconds},
            **kwargs,
        )
        event.listen(engine, "connect", _sqlite_pragmas(pool))
        file = str(Path(path).resolve()) if path and path != ":memory:" else url
        write = writing_begins(engine, file, pool.lock_seconds)
        event.listen(engine, "begin", _sqlite_begin(pool, write))
        return engine
    kwargs.setdefault("pool_pre_ping", True)
    kwargs.setdefault("connect_args", {"options": _postgres_options(pool)})
    return sa.create_engine(url, **kwargs)


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    """Sessions that keep loaded objects usable after commit."""
    return sessionmaker(bind=engine, expire_on_commit=False)


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """The unit-of-work boundary: commit on success, roll back on any error."""
    session = factory()
    try:
        with session.begin():
            yield session
    finally:
        session.close()


@contextmanager
def reading(factory: sessionmaker[Session]) -> Iterator[Session]:
    """A session of `factory` whose transaction only reads, closed afterwards.

    On SQLite it begins deferred, so it never takes (or waits for) the write
    lock that every writing transaction takes up front; on PostgreSQL it is a
    READ ONLY transaction, where a write fails.
    """
    session = factory()
    try:
        options: dict[str, Any] = {READ_ONLY: True}
        if session.get_bind().dialect.name == "postgresql":
            options["postgresql_readonly"] = True
        session.connection(execution_options=options)  # set before the transaction begins
        yield session
    finally:
        session.close()

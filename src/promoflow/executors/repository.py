"""Every statement of the executors package: advisory locks and the `executors` rows.

They run on a bare `Connection` in autocommit, not a `Session`: the lock must live
exactly as long as that one connection, outside every pool and transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Connection, Engine

from promoflow.executors.models import Executor

# The advisory-lock namespace of executor locks ("pflw"), apart from any other use.
LOCK_NAMESPACE = 0x70666C77


def lock(conn: Connection, executor_id: str, *, wait: bool) -> bool:
    """Take the executor id's session-level advisory lock; False when held elsewhere."""
    function = "pg_advisory_lock" if wait else "pg_try_advisory_lock"
    taken = conn.execute(
        sa.text(f"SELECT {function}(:namespace, hashtext(:executor_id))"),
        {"namespace": LOCK_NAMESPACE, "executor_id": executor_id},
    ).scalar()
    return wait or bool(taken)


def unlock(conn: Connection, executor_id: str) -> None:
    conn.execute(
        sa.text("SELECT pg_advisory_unlock(:namespace, hashtext(:executor_id))"),
        {"namespace": LOCK_NAMESPACE, "executor_id": executor_id},
    )


def set_lock_timeout(conn: Connection, milliseconds: int) -> None:
    """How long a waiting lock may wait on this connection (0: for ever)."""
    conn.execute(sa.text(f"SET lock_timeout = {int(milliseconds)}"))


def upsert_executor(
    conn: Connection,
    *,
    executor_id: str,
    host: str,
    pid: int,
    application_version: str,
    started_at: datetime,
) -> None:
    """List the executor; a restart under the same id updates its host, pid and start."""
    statement = postgresql.insert(Executor).values(
        executor_id=executor_id,
        host=host,
        pid=pid,
        application_version=application_version,
        started_at=started_at,
    )
    conn.execute(
        statement.on_conflict_do_update(
            index_elements=[Executor.executor_id],
            set_={c: statement.excluded[c] for c in ("host", "pid", "started_at")},
        )
    )


def delete_executor(conn: Connection, executor_id: str) -> None:
    conn.execute(sa.delete(Executor).where(Executor.executor_id == executor_id))


def other_executors(conn: Connection, executor_id: str) -> Sequence[str]:
    """The ids of every listed executor but this one."""
    return (
        conn.execute(sa.select(Executor.executor_id).where(Executor.executor_id != executor_id))
        .scalars()
        .all()
    )


def ping(engine: Engine) -> None:
    """One round trip to the database; raises whatever the driver raises when it cannot."""
    with engine.connect() as connection:
        connection.execute(sa.text("SELECT 1"))

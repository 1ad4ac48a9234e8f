"""Executors: the serve and worker processes on PostgreSQL, and who takes over a dead one's work.

DBOS hands a process's pending workflows back to the queues only when a process
with the same executor id starts again. A worker that dies for good (its host
gone, the deployment scaled down) would leave its promotions waiting forever.
So each process on PostgreSQL holds, on a connection of its own, a session-level
advisory lock named after its executor id for as long as it lives, and lists
itself in `executors`. Every `reap_seconds` each process tries the lock of every
other listed executor: a lock it can take belongs to a process that is gone
(PostgreSQL frees it when that process's connection ends), so the taker hands
the dead executor's pending workflows back to the queues and removes its row.

No clock decides who is dead, so a slow process is never taken over. A process
cut off from the database loses its lock with its connection; should it come
back, a workflow may run in two places at once, which DBOS's checkpoints (the
first to record a step wins) and the connectors' idempotency keys make harmless.

The same lock refuses a second live process with an executor id already in
use, which would otherwise share and fight over one set of workflows.

There is no DBOS API for "recover another executor's workflows" other than the
one its admin server and Conductor call (`DBOS._recover_pending_workflows`): it
re-enqueues only workflows still PENDING under the dead executor's id, so two
processes taking over the same executor cannot start a workflow twice.
"""

from __future__ import annotations

import os
import socket
import threading

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from promoflow.executors import repository
from promoflow.executors.schemas import Recover
from promoflow.kit.clock import utcnow
from promoflow.kit.errors import Conflict
from promoflow.kit.logging import get_logger

log = get_logger(__name__)


class ExecutorIdInUse(Conflict):
    """Another live process holds this executor id."""


def check_database(engine: Engine) -> None:
    """The database answers a round trip (readiness); raises the driver's error if not."""
    repository.ping(engine)


class ExecutorPresence:
    """This process's lock and row, and the thread that takes over dead executors."""

    def __init__(
        self,
        url: str,
        executor_id: str,
        application_version: str,
        recover: Recover,
        *,
        reap_seconds: float = 5.0,
        claim_wait_seconds: float = 30.0,
    ) -> None:
        # A connection of its own, outside every pool: the lock lives as long as it.
        self._engine: Engine = sa.create_engine(
            url, poolclass=sa.NullPool, isolation_level="AUTOCOMMIT"
        )
        self.executor_id = executor_id
        self._version = application_version
        self._recover = recover
        self._reap_seconds = reap_seconds
        self._claim_wait = claim_wait_seconds
        self._conn: Connection | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="executor-reaper", daemon=True)

    def claim(self) -> None:
        """Take this executor id's lock (waiting out a reaper's brief hold) and list it."""
        conn = self._engine.connect()
        try:
            repository.set_lock_timeout(conn, int(self._claim_wait * 1000))
            try:
                repository.lock(conn, self.executor_id, wait=True)
            except sa.exc.OperationalError:
                raise ExecutorIdInUse(
                    f"executor id {self.executor_id!r} is held by another live process; give "
                    "every serve and worker process its own PROMOFLOW_EXECUTOR_ID"
                ) from None
            repository.set_lock_timeout(conn, 0)
            repository.upsert_executor(
                conn,
                executor_id=self.executor_id,
                host=socket.gethostname(),
                pid=os.getpid(),
                application_version=self._version,
                started_at=utcnow(),
            )
        except BaseException:
            conn.close()
            raise
        self._conn = conn

    def start(self) -> None:
        """Begin looking for dead executors every `reap_seconds`."""
        self._thread.start()

    def stop(self) -> None:
        """Leave cleanly: drop the row, then the lock (closing the connection frees it)."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=10)
        if self._conn is not None:
            try:
                repository.delete_executor(self._conn, self.executor_id)
            except sa.exc.DBAPIError as error:  # gone anyway: the next reaper tidies up
                log.warning("executor_row_not_removed", error=str(error))
            self._conn.close()
            self._conn = None
        self._engine.dispose()

    def reap(self) -> list[str]:
        """Take over every listed executor whose lock is free; returns their ids."""
        conn = self._conn
        if conn is None:
            raise RuntimeError("claim() before reap()")
        taken_over = []
        for other in repository.other_executors(conn, self.executor_id):
            if not repository.lock(conn, other, wait=False):
                continue  # alive
            try:
                recovered = self._recover(other)
                repository.delete_executor(conn, other)
                log.warning("executor_taken_over", executor=other, workflows=recovered)
                taken_over.append(other)
            finally:
                repository.unlock(conn, other)
        return taken_over

    def _run(self) -> None:
        while not self._stop.wait(self._reap_seconds):
            try:
                self.reap()
            except Exception as error:  # keep watching; a lost connection is re-made below
                log.error("executor_reap_failed", error=str(error))
                self._reconnect()

    def _reconnect(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None
        try:
            self.claim()
        except Exception as error:  # try again at the next tick
            log.error("executor_reclaim_failed", error=str(error))

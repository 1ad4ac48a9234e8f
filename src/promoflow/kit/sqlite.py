"""SQLite's one writer, shared fairly among this process's threads.

SQLite lets one transaction write at a time. A connection that finds the write
lock taken sleeps and tries again (its busy handler, up to 100 ms a time), so
among many writing threads the lock goes to whoever happens to try at the
instant it is free: under a steady stream of workflow transactions one writer
(the outbox relay, a person's command) can lose every time until its timeout
runs out. So every writing transaction of this process takes a first-come,
first-served turn (`WriteTurns`) before it asks SQLite for the lock, and gives
it back when it commits or rolls back. Readers take no turn: in WAL mode they
never wait for the writer. Another process (or DBOS's own system tables) still
meets the busy handler, as before.

The standard library's locks promise no order, and no maintained package
offers a first-come, first-served lock with a timeout, so it is written here.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable
from typing import Any

from sqlalchemy import event
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Engine


class WriteTurns:
    """A lock granted in the order it was asked for, with a timeout."""

    def __init__(self) -> None:
        self._mutex = threading.Lock()
        self._waiting: deque[threading.Event] = deque()
        self._held = False

    def acquire(self, timeout: float) -> bool:
        """Wait up to `timeout` seconds for the turn; False if it did not come."""
        with self._mutex:
            if not self._held and not self._waiting:
                self._held = True
                return True
            turn = threading.Event()
            self._waiting.append(turn)
        if turn.wait(timeout):
            return True
        with self._mutex:
            if turn.is_set():  # handed over just as the wait ran out
                return True
            self._waiting.remove(turn)
            return False

    def release(self) -> None:
        """End the turn, handing it straight to the longest waiting thread."""
        with self._mutex:
            if self._waiting:
                self._waiting.popleft().set()
            else:
                self._held = False


_turns: dict[str, WriteTurns] = {}
_turns_guard = threading.Lock()
HOLDS_TURN = "promoflow_holds_write_turn"


def turns_for(path: str) -> WriteTurns:
    """The one turn-keeper of a database file in this process (every engine on it shares it)."""
    with _turns_guard:
        return _turns.setdefault(path, WriteTurns())


class WriteTurnTimeout(sa_exc.TimeoutError):
    """No write turn came in time: the database is busy (the API answers 503)."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"database is locked: no write turn within {seconds:g} s")


def writing_begins(engine: Engine, path: str, wait_seconds: float) -> Callable[[Any], None]:
    """How a writing transaction of `engine` begins: its turn, then BEGIN IMMEDIATE.

    The turn ends when the transaction commits or rolls back (just before the
    COMMIT itself: the next writer's BEGIN IMMEDIATE waits the moment that takes
    in SQLite's busy handler), or when its connection goes back to the pool.
    """
    turns = turns_for(path)

    def give_back(info: dict[Any, Any]) -> None:
        if info.pop(HOLDS_TURN, False):
            turns.release()

    event.listen(engine, "commit", lambda conn: give_back(conn.info))
    event.listen(engine, "rollback", lambda conn: give_back(conn.info))

    # However the connection leaves the transaction (returned, reset, invalidated,
    # closed, detached), the turn goes with it: a lost turn would stop every writer.
    def on_record(_dbapi_connection: Any, connection_record: Any, *_: Any) -> None:
        if connection_record is not None:  # None once a connection was detached
            give_back(connection_record.info)

    def on_reset(_dbapi_connection: Any, connection_record: Any, _reset_state: Any) -> None:
        give_back(connection_record.info)

    def on_invalidate(_dbapi_connection: Any, connection_record: Any, _exception: Any) -> None:
        give_back(connection_record.info)

    for name in ("checkin", "close", "detach"):
        event.listen(engine.pool, name, on_record)
    event.listen(engine.pool, "reset", on_reset)
    event.listen(engine.pool, "invalidate", on_invalidate)
    event.listen(engine.pool, "soft_invalidate", on_invalidate)

    def begin(conn: Any) -> None:
        if not conn.info.get(HOLDS_TURN):
            if not turns.acquire(wait_seconds):
                raise WriteTurnTimeout(wait_seconds)
            conn.info[HOLDS_TURN] = True
        try:
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        except BaseException:
            give_back(conn.info)
            raise

    return begin

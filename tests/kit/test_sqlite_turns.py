"""SQLite's one writer goes first come, first served; a writer kept waiting gets a timeout."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from promoflow.kit.db import Pool, make_engine, make_sessionmaker, reading, transaction
from promoflow.kit.sqlite import WriteTurns, WriteTurnTimeout


def test_turns_are_granted_in_the_order_they_were_asked_for() -> None:
    turns = WriteTurns()
    assert turns.acquire(1.0)
    order: list[int] = []
    started: list[threading.Thread] = []
    for n in range(5):
        thread = threading.Thread(
            target=lambda n=n: (turns.acquire(5.0), order.append(n), turns.release())
        )
        thread.start()
        started.append(thread)
        time.sleep(0.05)  # each asks after the one before
    turns.release()
    for thread in started:
        thread.join(5)
    assert order == [0, 1, 2, 3, 4]


def test_a_turn_not_granted_in_time_is_withdrawn_and_the_next_one_still_comes() -> None:
    turns = WriteTurns()
    assert turns.acquire(1.0)
    assert not turns.acquire(0.1)  # withdrawn, not left in the queue
    turns.release()
    assert turns.acquire(0.1)


def test_a_writer_waits_its_turn_behind_a_long_transaction_and_readers_do_not(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'turns.db'}"
    engine = make_engine(url, Pool(size=4, overflow=0, lock_seconds=0.3))
    sessions = make_sessionmaker(engine)
    with engine.begin() as conn:
        conn.execute(sa.text("CREATE TABLE t (n INTEGER)"))
    try:
        with transaction(sessions) as holder:
            holder.execute(sa.text("INSERT INTO t VALUES (1)"))
            with reading(sessions) as reader:  # a reader never waits
                assert reader.execute(sa.text("SELECT count(*) FROM t")).scalar_one() == 0
            began = time.monotonic()
            with (
                pytest.raises(WriteTurnTimeout, match="database is locked"),
                transaction(sessions) as writer,
            ):
                writer.execute(sa.text("INSERT INTO t VALUES (2)"))
            assert 0.25 < time.monotonic() - began < 2.0
        with transaction(sessions) as writer:  # the turn came back with the commit
            writer.execute(sa.text("INSERT INTO t VALUES (3)"))
        with reading(sessions) as reader:
            assert reader.execute(sa.text("SELECT n FROM t ORDER BY n")).scalars().all() == [1, 3]
    finally:
        engine.dispose()

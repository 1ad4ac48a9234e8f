"""A dead executor's workflows are taken over by a live one; an executor id is one process's.

PostgreSQL only (the advisory lock is the proof of life): these run in the
PostgreSQL pass.
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from promoflow.executors import Executor, ExecutorIdInUse, ExecutorPresence

pytestmark = pytest.mark.postgresql_only

CLAIM_AND_WAIT = """
import sys, time
from promoflow.executors import ExecutorPresence
presence = ExecutorPresence(sys.argv[1], sys.argv[2], "v1", recover=lambda _: 0)
presence.claim()
print("claimed", flush=True)
time.sleep(600)
"""


@pytest.fixture
def url(private_engine: Callable[[str], Engine]) -> str:
    return private_engine("executors").url.render_as_string(hide_password=False)


def _listed(url: str) -> set[str]:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return set(conn.execute(sa.select(Executor.executor_id)).scalars())
    finally:
        engine.dispose()


def test_a_killed_executor_is_taken_over_once_and_a_live_one_never(url: str) -> None:
    other = subprocess.Popen(
        [sys.executable, "-c", CLAIM_AND_WAIT, url, "worker-b"], stdout=subprocess.PIPE, text=True
    )
    recovered: list[str] = []

    def recover(executor_id: str) -> int:
        recovered.append(executor_id)
        return 3

    live = ExecutorPresence(url, "worker-a", "v1", recover=recover)
    try:
        assert other.stdout is not None and other.stdout.readline().strip() == "claimed"
        live.claim()
        assert live.reap() == []  # worker-b is alive: its lock is held
        assert _listed(url) == {"worker-a", "worker-b"}

        other.kill()  # SIGKILL: no goodbye, the database frees the lock
        other.wait(timeout=10)
        taken: list[str] = []
        deadline = time.monotonic() + 10  # the server notices the closed socket at once
        while not taken and time.monotonic() < deadline:
            taken = live.reap()
            time.sleep(0.05)
        assert taken == ["worker-b"]
        assert recovered == ["worker-b"]
        assert _listed(url) == {"worker-a"}
        assert live.reap() == []  # taken over once
    finally:
        if other.poll() is None:
            other.kill()
        live.stop()
    assert _listed(url) == set()


def test_a_second_process_with_the_same_executor_id_is_refused(url: str) -> None:
    first = ExecutorPresence(url, "worker-a", "v1", recover=lambda _: 0)
    second = ExecutorPresence(url, "worker-a", "v1", recover=lambda _: 0, claim_wait_seconds=0.5)
    first.claim()
    try:
        with pytest.raises(ExecutorIdInUse, match="worker-a"):
            second.claim()
    finally:
        first.stop()
        second.stop()
    # Once the first has left, the id is free again.
    again = ExecutorPresence(url, "worker-a", "v1", recover=lambda _: 0, claim_wait_seconds=0.5)
    again.claim()
    again.stop()

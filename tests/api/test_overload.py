"""Overload is shed with 503 and Retry-After; a busy database is a 503, not a 500 or a hang."""

from __future__ import annotations

import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
import sqlalchemy as sa
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import exc as sa_exc

from promoflow.api.overload import RequestSlots, is_retryable_database_error
from promoflow.api.problems import install_problem_handlers


def _slow_app(
    limit: int, max_queued: int, queue_seconds: float, hold: float
) -> tuple[FastAPI, dict[str, int]]:
    """An app whose one route holds its slot for `hold` s and counts how many run at once."""
    app = FastAPI()
    install_problem_handlers(app)
    seen = {"running": 0, "most": 0}
    lock = threading.Lock()

    @app.get("/work")
    def work() -> dict[str, str]:
        with lock:
            seen["running"] += 1
            seen["most"] = max(seen["most"], seen["running"])
        time.sleep(hold)
        with lock:
            seen["running"] -= 1
        return {"done": "yes"}

    @app.get("/readyz")
    def ready() -> dict[str, str]:
        return {"status": "ready"}

    app.add_middleware(
        RequestSlots, limit=limit, max_queued=max_queued, queue_seconds=queue_seconds, retry_after=3
    )
    return app, seen


def _burst(client: TestClient, path: str, count: int) -> list[tuple[int, dict[str, str], float]]:
    start = threading.Barrier(count)

    def call(_: int) -> tuple[int, dict[str, str], float]:
        start.wait()
        began = time.monotonic()
        response = client.get(path)
        return response.status_code, dict(response.headers), time.monotonic() - began

    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(call, range(count)))


def test_requests_past_the_slots_wait_then_are_shed_with_retry_after() -> None:
    app, seen = _slow_app(limit=2, max_queued=100, queue_seconds=0.3, hold=0.5)
    with TestClient(app) as client:
        results = _burst(client, "/work", 12)
    statuses = Counter(status for status, _, _ in results)
    assert seen["most"] == 2  # never more than the slots inside the app
    assert statuses[200] >= 2 and statuses[503] >= 1, statuses
    assert set(statuses) <= {200, 503}
    for status, headers, seconds in results:
        if status == 503:
            assert headers["retry-after"] == "3"
            assert headers["content-type"] == "application/problem+json"
            assert seconds < 2.0  # shed after the queue wait, not after the work


def test_a_full_queue_is_shed_at_once_and_probes_still_answer() -> None:
    app, _ = _slow_app(limit=1, max_queued=0, queue_seconds=5.0, hold=1.0)
    with TestClient(app) as client:
        holder = threading.Thread(target=client.get, args=("/work",))
        holder.start()
        time.sleep(0.3)  # the one slot is taken, and nobody may queue
        began = time.monotonic()
        shed = client.get("/work")
        waited = time.monotonic() - began
        probe = client.get("/readyz")
        holder.join()
    assert shed.status_code == 503
    assert waited < 0.5
    assert "at capacity" in shed.json()["detail"]
    assert probe.status_code == 200


def test_busy_database_errors_are_retryable_and_others_are_not() -> None:
    busy = sa_exc.OperationalError("BEGIN IMMEDIATE", {}, Exception("database is locked"))
    broken = sa_exc.OperationalError("SELECT", {}, Exception("no such table: x"))
    assert is_retryable_database_error(sa_exc.TimeoutError("QueuePool limit reached"))
    assert is_retryable_database_error(busy)
    assert not is_retryable_database_error(broken)
    assert not is_retryable_database_error(ValueError("database is locked"))


def test_an_api_read_never_waits_for_the_write_lock(runtime: object) -> None:
    """A writer holding its transaction open does not hold up readers (SQLite: WAL, deferred)."""
    from promoflow.promotions.models import Promotion
    from promoflow.runtime import get_runtime

    rt = get_runtime()
    with rt.sessions() as writer:
        writer.execute(sa.select(sa.func.count()).select_from(Promotion))  # BEGIN IMMEDIATE
        writer.execute(sa.text("UPDATE promotions SET name = name WHERE id = -1"))
        began = time.monotonic()
        with rt.api_reads() as reader:
            reader.execute(sa.select(sa.func.count()).select_from(Promotion)).scalar_one()
        assert time.monotonic() - began < 1.0
        writer.rollback()


def test_an_api_read_session_cannot_write(runtime: object) -> None:
    from promoflow.runtime import get_runtime

    with get_runtime().api_reads() as reader, pytest.raises(sa_exc.DBAPIError) as refused:
        reader.execute(sa.text("UPDATE promotions SET name = name WHERE id = -1"))
    assert "read" in str(refused.value).lower()  # read-only transaction / readonly database

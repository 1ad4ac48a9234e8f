"""Two real `promoflow serve` processes naming one Redis share each client's budget
(issue 12, item 4), and a serve process logs JSON lines with the request id."""

from __future__ import annotations

import json
import os
import socket
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager

import httpx
import pytest

from db_support import fresh_database
from process_support import process_env, serving

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

REDIS = os.environ.get("PROMOFLOW_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def _require_redis() -> None:
    try:
        with socket.create_connection(("127.0.0.1", 6379), 1):
            return
    except OSError as error:
        if os.environ.get("CI") == "true":
            pytest.fail(f"Redis at {REDIS} is not reachable ({error}); CI needs it")
        pytest.skip(f"Redis at {REDIS} is not reachable ({error})")


@pytest.fixture(scope="module")
def database(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    from promoflow.kit.db import make_engine
    from promoflow.migrate import upgrade

    with contextmanager(fresh_database)(tmp_path_factory, "ratelimits") as url:
        engine = make_engine(url)
        upgrade(engine)
        engine.dispose()
        yield url


def test_two_serve_processes_share_one_budget_through_redis(
    database: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    _require_redis()
    # A fresh actor name per run: the budget lives in Redis, beyond this test.
    actor = f"limits-{uuid.uuid4().hex[:12]}"
    key = f"shared-limit-key-{uuid.uuid4().hex}"
    workdir = tmp_path_factory.mktemp("shared")
    with ExitStack() as stack:
        servers = []
        for index in range(2):
            env = process_env(
                database,
                workdir,
                api_keys=f"{key}:{actor}:auditor",
                rate_limit_storage=REDIS,
                rate_limit_reads="4/minute",
                executor_id=f"limits-{index}-{uuid.uuid4().hex[:6]}",
            )
            servers.append(stack.enter_context(serving(env, workdir / f"serve-{index}.log")))
        headers = {"X-API-Key": key, "X-Request-ID": "shared-budget-1"}
        statuses = []
        remaining = []
        for turn in range(6):
            url = servers[turn % 2].url  # alternate between the processes
            answer = httpx.get(f"{url}/api/v1/promotions", headers=headers, timeout=30)
            statuses.append(answer.status_code)
            remaining.append(answer.headers["RateLimit"])
        # Four in all, not four per process: the fifth request, on either, is refused.
        assert statuses == [200, 200, 200, 200, 429, 429], (statuses, remaining)
        assert remaining[0].startswith('"reads";r=3;')
        assert remaining[3].startswith('"reads";r=0;')
    # Read once both have stopped, so every line is flushed.
    log_lines = [
        json.loads(line)
        for server in servers
        for line in server.output().splitlines()
        if line.startswith("{") and '"http_request"' in line
    ]
    ours = [line for line in log_lines if line.get("route") == "/api/v1/promotions"]
    assert len(ours) == 6
    assert {line["request_id"] for line in ours} == {"shared-budget-1"}
    assert sorted(line["status"] for line in ours) == [200, 200, 200, 200, 429, 429]

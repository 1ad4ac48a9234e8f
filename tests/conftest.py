"""Shared fixtures: one database per test run, on SQLite or on real PostgreSQL.

`PROMOFLOW_TEST_BACKEND=postgresql` runs the database tests against the server on
127.0.0.1:5432 in a fresh database that is dropped afterwards. Without the server
they skip with the reason, except under CI=true, where they fail.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import suppress
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from db_support import BACKEND, DatabasePool, fresh_database, rolled_back_session
from promoflow.config import Settings, get_settings
from promoflow.kit.db import make_engine

# Python caches compiled modules for this run and every process it starts. Where
# PYTHONDONTWRITEBYTECODE is set (as on the machine CI runs on), each `promoflow
# serve`, CLI call and schemathesis run compiled everything it imports from source
# again: about 11 s of CPU per process instead of 4 s, minutes over a pass. The
# caches are __pycache__ folders, which git ignores.
os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
sys.dont_write_bytecode = False

DB_FIXTURES = {"db_url", "engine", "session", "runtime", "seeded", "private_engine"}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Every test that touches the database also runs in the PostgreSQL pass.

    Tests of what exists only on PostgreSQL (`postgresql_only`) run only there:
    the SQLite pass deselects them rather than skipping them.
    """
    only_postgres = []
    for item in items:
        if DB_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.postgres)
        if item.get_closest_marker("postgresql_only"):
            item.add_marker(pytest.mark.postgres)
            only_postgres.append(item)
    if BACKEND != "postgresql" and only_postgres:
        config.hook.pytest_deselected(items=only_postgres)
        items[:] = [item for item in items if item not in only_postgres]
    if os.environ.get("PYTEST_XDIST_WORKER"):  # only workers share files out by order
        items[:] = longest_files_first(items)


# Files without a `slow` mark that still take a minute or more (models trained or
# searched in module fixtures, processes started to time an import), from the
# slowest-tests list every run prints (--durations in pyproject.toml).
LONG_FILES = frozenset(
    {
        "tests/forecasting/test_champion.py",
        "tests/forecasting/test_leaks.py",
        "tests/forecasting/test_distributed.py",
        "tests/forecasting/test_recipe.py",
        "tests/cli/test_cli_start.py",
        "tests/lifecycle/test_demo_clock.py",
    }
)


def longest_files_first(items: list[pytest.Item]) -> list[pytest.Item]:
    """The files with `slow` tests (processes, browsers) and LONG_FILES first, else as collected.

    `make test TEST_WORKERS=N` hands whole files to its workers in this order: a long
    file started last would keep one worker busy after the others ran out of work.
    The PostgreSQL pass takes the long files in reverse, so that two passes run side
    by side would not start the same heavy file (a schemathesis run, the demo) at
    the same moment.
    """

    def file_of(item: pytest.Item) -> str:
        return item.nodeid.split("::", 1)[0]  # the path from the root folder, as xdist groups

    long_files: dict[str, int] = {}
    for item in items:
        if file_of(item) in LONG_FILES or item.get_closest_marker("slow"):
            long_files.setdefault(file_of(item), len(long_files))
    if BACKEND == "postgresql":
        long_files = {name: -rank for name, rank in long_files.items()}
    last = len(items)
    # sorted() is stable: each file's tests stay together and in their own order.
    return sorted(items, key=lambda item: long_files.get(file_of(item), last))


def pytest_xdist_make_scheduler(config: pytest.Config, log: object) -> object:
    """Under `-n N`, each worker takes whole test folders, not files.

    A folder's conftest builds session fixtures its files share (the analytics tests'
    `promoflow demo` run, a minute; the post-event history; the process-mining
    estate). Handed out by file, both workers built each of them; by folder, each is
    built once per pass, as without workers. xdist has no option for this grouping,
    so its file scheduler is subclassed at the one method that names a test's group
    (pytest-xdist is pinned by the lock file).
    """
    from xdist.scheduler import LoadFileScheduling

    class FolderScheduling(LoadFileScheduling):
        def _split_scope(self, nodeid: str) -> str:
            parts = nodeid.split("::", 1)[0].split("/")
            return "/".join(parts[:2]) if len(parts) > 2 else parts[0]

    return FolderScheduling(config, log)


# Hosts the tests' connections name: the local test servers, and made-up hosts of
# connectors that never call out (RFC 2606 names).
TEST_HOSTS = "localhost,127.0.0.0/8,::1,*.example.test,*.example.com"


@pytest.fixture(scope="session", autouse=True)
def connector_allow_lists(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """What the tests' connections may reach; yields the secrets folder.

    Set in the environment, so every Settings of the run (the runtime's, the
    in-process CLI's) reads the same lists while the shipped defaults stay strict:
    variables PROMOFLOW_TEST_*, the test servers' hosts, folders under pytest's
    temporary root. The secrets folder sits outside that root, as a drop folder
    may not hold it.
    """
    secrets = Path(tempfile.mkdtemp(prefix="promoflow-secrets-"))
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PROMOFLOW_CONNECTOR_SECRET_ENV_PREFIXES", "PROMOFLOW_SECRET_,PROMOFLOW_TEST_")
        patch.setenv("PROMOFLOW_CONNECTOR_SECRETS_DIR", str(secrets))
        patch.setenv("PROMOFLOW_CONNECTOR_ALLOWED_HOSTS", TEST_HOSTS)
        patch.setenv("PROMOFLOW_CONNECTOR_ALLOWED_FOLDERS", str(tmp_path_factory.getbasetemp()))
        get_settings.cache_clear()
        yield secrets
    get_settings.cache_clear()
    shutil.rmtree(secrets, ignore_errors=True)


@pytest.fixture(scope="session")
def private_engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[[str], Engine]]:
    """`private_engine(label)`: a migrated database of a test package's own, without DBOS.

    Packages whose tests build a tiny hand-made catalogue use it so their rows
    never meet the seeded retailer the runtime tests share.
    """
    pool = DatabasePool(tmp_path_factory)
    engines: dict[str, Engine] = {}

    def build(label: str) -> Engine:
        if label not in engines:
            engines[label] = pool.new(label)
        return engines[label]

    yield build
    pool.close()


@pytest.fixture(scope="session")
def db_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A fresh, empty database for this test run."""
    yield from fresh_database(tmp_path_factory, "db")


@pytest.fixture(scope="session")
def test_settings(db_url: str, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return Settings(
        environment="test",
        database_url=db_url,
        data_dir=tmp_path_factory.mktemp("data"),
        executor_id="pytest",
        # One business hour = 50 ms: an 8 h approval SLA lapses in 0.4 s, long
        # enough for a test's desk to act first on a busy two-core machine.
        seconds_per_business_hour=0.05,
        notification_poll_seconds=0.05,
        # Small pools: the suite's own processes (serve, workers, crash workers) share
        # the PostgreSQL server's 100 connections with this one.
        api_max_concurrency=6,
        workflow_db_connections=4,
        dbos_system_db_connections=8,
    )


@pytest.fixture(scope="session")
def runtime(test_settings: Settings) -> Iterator[object]:
    """The full runtime (database migrated, DBOS launched) shared by the run.

    The demo branch goes in before DBOS launches: the tests seed the scenario
    retailer and let the sandbox estate answer every port.
    """
    from promoflow.migrate import upgrade
    from promoflow.runtime import open_database, start_runtime, stop_runtime

    get_settings.cache_clear()
    os.environ["PROMOFLOW_DATABASE_URL"] = test_settings.resolved_database_url()
    upgrade(open_database(test_settings).engine, demo=True)
    rt = start_runtime(test_settings)
    yield rt
    _end_leftover_workflows()
    stop_runtime()


def _end_leftover_workflows() -> None:
    """Cancel the workflows tests left waiting (a live promotion, a case nobody decided).

    The interpreter joins DBOS's workflow threads at exit, and a thread still
    waiting after DBOS shut down would keep polling a database that is gone. A
    cancelled workflow stops at its next DBOS call; a message wakes it for one.
    """
    from dbos import DBOS

    from promoflow.lifecycle.signals import TOPIC

    leftover = DBOS.list_workflows(
        status=["PENDING", "ENQUEUED"], load_input=False, load_output=False
    )
    for workflow in leftover:
        DBOS.cancel_workflow(workflow.workflow_id)
        with suppress(Exception):  # a workflow with no lifecycle topic: cancelling is enough
            DBOS.send(workflow.workflow_id, {"kind": "test session over"}, topic=TOPIC)


@pytest.fixture(scope="session")
def engine(runtime: object) -> Engine:
    from promoflow.runtime import get_runtime

    return get_runtime().engine


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    """A session whose work is rolled back after the test (nothing leaks between tests)."""
    yield from rolled_back_session(engine)


@pytest.fixture(scope="session")
def seeded(runtime: object) -> object:
    """A small seeded retailer (10 stores, 60 SKUs), generated once per run."""
    from promoflow.runtime import get_runtime
    from promoflow.scenario.generator import ScenarioSize, generate

    return generate(get_runtime().sessions, ScenarioSize.small(), seed=7)


def make_test_engine(url: str) -> Engine:
    return make_engine(url)

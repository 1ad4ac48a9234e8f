"""The process runtime: engine, sessions, DBOS and the transactional datasource.

One runtime per process. The API, the worker, the CLI and the tests all build it
through `start_runtime`, so DBOS always shares the application's database.
"""

from __future__ import annotations

import logging
import os
import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NoReturn

from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from promoflow.config import Settings, get_settings
from promoflow.kit.db import Pool, make_engine, make_sessionmaker
from promoflow.migrate import upgrade

if TYPE_CHECKING:
    # DBOS, the bus and the relay load only where the runtime starts: a CLI
    # command that reads opens the database without them (benchmarks/cli_start.py).
    from dbos import SQLAlchemyDatasource

    from promoflow.events.bus import EventBus
    from promoflow.events.relay import OutboxRelay
    from promoflow.executors import ExecutorPresence


@dataclass
class Runtime:
    """The process's database pools, DBOS, the bus and the outbox relay.

    Three pools, so that no kind of work can starve another:

    | pool | sessions | for |
    | --- | --- | --- |
    | commands | `sessions` | API commands, the CLI, relay, consumers: short waits |
    | API reads | `api_reads` | the API's GET routes: one connection per request slot |
    | workflows | `workflow_sessions` (and `run_tx`) | workflow steps: they queue |

    Work that only reads opens its session with `kit.db.reading(...)` (the API's
    read pool always reads only): on SQLite it then never takes the write lock.
    """

    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    api_engine: Engine
    api_reads: sessionmaker[Session]
    workflow_engine: Engine
    workflow_sessions: sessionmaker[Session]
    datasource: SQLAlchemyDatasource | None = None
    dbos_launched: bool = False
    bus: EventBus | None = None
    relay: OutboxRelay | None = None
    presence: ExecutorPresence | None = None


_runtime: Runtime | None = None
SQLITE_DBOS_OVERFLOW = 200


def open_database(settings: Settings | None = None, *, migrate: bool = True) -> Runtime:
    """Open the application database (and migrate it) without starting DBOS."""
    global _runtime
    if _runtime is not None:  # one runtime per process: the first opener's settings win
        return _runtime
    settings = settings or get_settings()
    url = settings.resolved_database_url()
    engine = make_engine(url, command_pool(settings))
    if migrate:
        upgrade(engine)
    api_engine = make_engine(url, api_read_pool(settings))
    workflow_engine = make_engine(url, workflow_pool(settings))
    _runtime = Runtime(
        settings=settings,
        engine=engine,
        sessions=make_sessionmaker(engine),
        api_engine=api_engine,
        api_reads=make_sessionmaker(api_engine),
        workflow_engine=workflow_engine,
        workflow_sessions=make_sessionmaker(workflow_engine),
    )
    return _runtime


def command_pool(settings: Settings) -> Pool:
    """Commands (one per request slot, plus the relay, consumers and syncs): short waits."""
    return Pool(
        size=settings.api_max_concurrency,
        overflow=4,
        wait_seconds=settings.db_wait_seconds,
        lock_seconds=settings.db_lock_seconds,
    )


def api_read_pool(settings: Settings) -> Pool:
    """The API's reads: one connection per request slot, read-only, statements bounded."""
    return Pool(
        size=settings.api_max_concurrency,
        overflow=0,
        wait_seconds=settings.db_wait_seconds,
        lock_seconds=settings.db_lock_seconds,
        read_only=True,
        statement_seconds=settings.db_read_statement_seconds,
    )


def workflow_pool(settings: Settings) -> Pool:
    """Workflow transactions: they wait their turn rather than fail.

    On SQLite only one writer commits at a time; a few connections keep the
    next transactions ready (and reads going) while the pool queues the rest in
    order, where a crowd of connections would spin on the file lock and starve
    one another.
    """
    size = settings.workflow_db_connections or (4 if settings.is_sqlite else 8)
    return Pool(size=size, overflow=0, wait_seconds=600.0, lock_seconds=120.0)


def start_runtime(settings: Settings | None = None) -> Runtime:
    """Open the database and launch DBOS on it (idempotent within a process)."""
    runtime = open_database(settings)
    if runtime.dbos_launched:
        return runtime
    from dbos import DBOS, DBOSConfig, SQLAlchemyDatasource

    # Import for the side effect of registering every workflow and step with DBOS
    # before launch, so recovery finds them.
    import promoflow.lifecycle.workflows  # noqa: F401
    from promoflow.connectors import jobs
    from promoflow.events import inbound
    from promoflow.events.relay import OutboxRelay
    from promoflow.lifecycle import reactions
    from promoflow.lifecycle.queue import register_lifecycle_queue

    url = runtime.settings.resolved_database_url()
    # Before launch: a second live process with this executor id is refused
    # before DBOS recovers (and so takes) the workflows of the first.
    runtime.presence = claim_executor(runtime.settings)
    config: DBOSConfig = {
        "name": "promoflow",
        "system_database_url": url,
        "application_version": runtime.settings.application_version,
        "executor_id": runtime.settings.executor_id,
        "notification_listener_polling_interval_sec": runtime.settings.notification_poll_seconds,
        "log_level": runtime.settings.dbos_log_level,
        "sys_db_pool_size": runtime.settings.dbos_system_db_connections,
        # DBOS traces every workflow and step through the tracer provider that
        # kit.tracing installs when an exporter is configured (it needs the SDK).
        "enable_otlp": runtime.settings.otel_exporter != "none",
    }
    if runtime.settings.is_sqlite:
        # One file holds both DBOS's tables and ours. A workflow transaction holds
        # the write lock while DBOS reads the workflow's owner on a connection of
        # its pool (as it commits a step with its checkpoint); were every pooled
        # connection held by a DBOS write waiting for that same lock, neither could
        # move until the busy timeout, again and again. SQLite connections cost a
        # file handle, so the pool may always grow.
        config["db_engine_kwargs"] = {"max_overflow": SQLITE_DBOS_OVERFLOW}
    DBOS(config=config)
    if not runtime.settings.run_workflows:
        # Queued lifecycles and syncs are left to the workers (DBOS's own internal
        # queue, which carries recovered workflows, is always listened to).
        DBOS.listen_queues([])
    runtime.datasource = SQLAlchemyDatasource.create(url, engine=runtime.workflow_engine)
    DBOS.launch()
    runtime.dbos_launched = True
    register_lifecycle_queue(runtime.settings.queue_poll_seconds)
    # Every connection's queue, so syncs queued before a restart run after it.
    jobs.register_connection_queues(runtime.sessions)
    runtime.bus = make_bus(runtime.settings, runtime.sessions)
    reactions.register(runtime.bus)
    inbound.register_position_replayer(runtime.sessions)
    runtime.bus.start()
    runtime.relay = OutboxRelay(runtime.sessions, runtime.bus)
    runtime.relay.start()
    if runtime.presence is not None:
        runtime.presence.start()
    return runtime


def claim_executor(settings: Settings) -> ExecutorPresence | None:
    """On PostgreSQL, hold this process's executor id and watch for dead executors."""
    if settings.is_sqlite:  # one process per SQLite file: nobody else to take over
        return None
    from promoflow.executors import ExecutorPresence

    presence = ExecutorPresence(
        settings.resolved_database_url(),
        settings.executor_id,
        settings.application_version,
        recover=_recover_executor,
        reap_seconds=settings.executor_reap_seconds,
    )
    presence.claim()
    return presence


def _recover_executor(executor_id: str) -> int:
    # DBOS's own recovery for a list of executors (what its admin server calls):
    # it re-enqueues only workflows still PENDING under those ids.
    from dbos import DBOS

    return len(DBOS._recover_pending_workflows([executor_id]))


def make_bus(settings: Settings, sessions: sessionmaker[Session]) -> EventBus:
    """The configured event bus (`event_bus`): in-process, or NATS JetStream."""
    from promoflow.events.bus import InProcessBus
    from promoflow.events.consumers import Dispatcher

    dispatcher = Dispatcher(sessions, max_attempts=settings.event_max_attempts)
    if settings.event_bus == "nats":
        from promoflow.events.nats_bus import NatsBus

        return NatsBus(
            dispatcher,
            settings.nats_url,
            settings.nats_stream,
            subject_prefix=settings.nats_subject_prefix,
        )
    return InProcessBus(dispatcher)


def get_runtime() -> Runtime:
    """The runtime opened by `open_database` or `start_runtime`."""
    if _runtime is None:
        raise RuntimeError("promoflow runtime not started: call start_runtime() first")
    return _runtime


def stop_runtime() -> None:
    """Shut DBOS down and close the database (tests and CLI exit)."""
    global _runtime
    if _runtime is None:
        return
    if _runtime.presence is not None:
        _runtime.presence.stop()
    if _runtime.relay is not None:
        _runtime.relay.stop()
    if _runtime.bus is not None:
        _runtime.bus.close()
    if _runtime.dbos_launched:
        # Workflows still waiting (a demo interrupted, a test's leftovers) are not
        # errors: they recover on the next start. Keep DBOS from reporting them as such.
        from dbos import DBOS

        logging.getLogger("dbos").setLevel(logging.CRITICAL)
        DBOS.destroy(destroy_registry=False, workflow_completion_timeout_sec=2)
    for engine in (_runtime.engine, _runtime.api_engine, _runtime.workflow_engine):
        engine.dispose()
    _runtime = None


def exit_process(code: int = 0) -> NoReturn:
    """End a serve or worker process once `stop_runtime` has run, without waiting for workflows.

    Workflows waiting for people or dates sit in DBOS threads the interpreter
    would join at exit; once DBOS is shut down those threads either poll a closed
    system database forever or wake into a runtime that is gone. Nothing of
    theirs lives only in memory (every step is checkpointed), so the process
    leaves them behind, as a crash would, and they resume in the next process.
    """
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def run_tx(func: Any, *args: Any, **kwargs: Any) -> Any:
    """Run `func(session, ...)` as an exactly-once transactional step.

    Inside a workflow the write and DBOS's checkpoint commit together; outside a
    workflow it is an ordinary transaction.
    """
    from dbos._datasource import DatasourceOptions

    runtime = get_runtime()
    datasource = runtime.datasource
    if datasource is None:
        raise RuntimeError("DBOS is not launched: transactional steps need start_runtime()")

    def body(*a: Any, **kw: Any) -> Any:
        return func(datasource.sql_session(), *a, **kw)

    body.__name__ = getattr(func, "__name__", "tx")
    body.__qualname__ = body.__name__
    # PostgreSQL: READ COMMITTED. Each lifecycle transaction touches one promotion,
    # whose state only its own workflow changes, while many workflows append to
    # shared tables (events, gate results); SERIALIZABLE turned those appends into
    # a storm of serialization retries (0.18 promotions/s for 40 in flight, 1.4
    # with READ COMMITTED). SQLite serialises writers anyway and knows no other level.
    options: DatasourceOptions = {
        "name": body.__name__,
        "isolation_level": "SERIALIZABLE" if runtime.settings.is_sqlite else "READ COMMITTED",
    }
    return datasource.run_tx_step(options, body, *args, **kwargs)

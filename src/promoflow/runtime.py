"""The process runtime: engine, sessions, DBOS and the transactional datasource.

One runtime per process. The API, the worker, the CLI and the tests all build it
through `start_runtime`, so DBOS always shares the application's database.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from dbos import DBOS, DBOSConfig, SQLAlchemyDatasource
from dbos._datasource import DatasourceOptions
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from promoflow.config import Settings, get_settings
from promoflow.events.bus import EventBus, InProcessBus
from promoflow.events.consumers import Dispatcher
from promoflow.events.relay import OutboxRelay
from promoflow.kit.db import make_engine, make_sessionmaker
from promoflow.migrate import upgrade


@dataclass
class Runtime:
    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    datasource: SQLAlchemyDatasource | None = None
    dbos_launched: bool = False
    bus: EventBus | None = None
    relay: OutboxRelay | None = None


_runtime: Runtime | None = None


def open_database(settings: Settings | None = None, *, migrate: bool = True) -> Runtime:
    """Open the application database (and migrate it) without starting DBOS."""
    global _runtime
    if _runtime is not None:  # one runtime per process: the first opener's settings win
        return _runtime
    settings = settings or get_settings()
    engine = make_engine(settings.resolved_database_url())
    if migrate:
        upgrade(engine)
    _runtime = Runtime(settings=settings, engine=engine, sessions=make_sessionmaker(engine))
    return _runtime


def start_runtime(settings: Settings | None = None) -> Runtime:
    """Open the database and launch DBOS on it (idempotent within a process)."""
    runtime = open_database(settings)
    if runtime.dbos_launched:
        return runtime
    # Import for the side effect of registering every workflow and step with DBOS
    # before launch, so recovery finds them.
    import promoflow.lifecycle.workflows  # noqa: F401
    from promoflow.connectors import jobs
    from promoflow.events import inbound
    from promoflow.lifecycle import reactions

    url = runtime.settings.resolved_database_url()
    config: DBOSConfig = {
        "name": "promoflow",
        "system_database_url": url,
        "application_version": runtime.settings.application_version,
        "executor_id": runtime.settings.executor_id,
        "notification_listener_polling_interval_sec": runtime.settings.notification_poll_seconds,
        "log_level": runtime.settings.dbos_log_level,
    }
    DBOS(config=config)
    runtime.datasource = SQLAlchemyDatasource.create(url, engine=runtime.engine)
    DBOS.launch()
    runtime.dbos_launched = True
    # Every connection's queue, so syncs queued before a restart run after it.
    jobs.register_connection_queues(runtime.sessions)
    runtime.bus = make_bus(runtime.settings, runtime.sessions)
    reactions.register(runtime.bus)
    inbound.register_position_replayer(runtime.sessions)
    runtime.bus.start()
    runtime.relay = OutboxRelay(runtime.sessions, runtime.bus)
    runtime.relay.start()
    return runtime


def make_bus(settings: Settings, sessions: sessionmaker[Session]) -> EventBus:
    """The configured event bus (`event_bus`): in-process, or NATS JetStream."""
    dispatcher = Dispatcher(sessions, max_attempts=settings.event_max_attempts)
    if settings.event_bus == "nats":
        from promoflow.events.nats_bus import NatsBus

        return NatsBus(dispatcher, settings.nats_url, settings.nats_stream)
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
    if _runtime.relay is not None:
        _runtime.relay.stop()
    if _runtime.bus is not None:
        _runtime.bus.close()
    if _runtime.dbos_launched:
        # Workflows still waiting (a demo interrupted, a test's leftovers) are not
        # errors: they recover on the next start. Keep DBOS from reporting them as such.
        logging.getLogger("dbos").setLevel(logging.CRITICAL)
        DBOS.destroy(destroy_registry=False, workflow_completion_timeout_sec=2)
    _runtime.engine.dispose()
    _runtime = None


def run_tx(func: Any, *args: Any, **kwargs: Any) -> Any:
    """Run `func(session, ...)` as an exactly-once transactional step.

    Inside a workflow the write and DBOS's checkpoint commit together; outside a
    workflow it is an ordinary transaction.
    """
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

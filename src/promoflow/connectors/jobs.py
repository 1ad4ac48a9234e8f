"""Connection jobs (syncs) as durable workflows on one DBOS queue per connection.

The queue carries the connection's rate limit across every process sharing the
database (`limiter`: at most `rate_limit_per_second` jobs started per second, at
least one) and runs one job at a time per process, so two syncs of the same
system never interleave their pages on this worker.
"""

from __future__ import annotations

import math
from typing import Any

from dbos import DBOS, Queue
from sqlalchemy.orm import Session, sessionmaker

from promoflow.integration import service as connections
from promoflow.integration import sync as syncing
from promoflow.kit.db import reading


def queue_name(connection: str) -> str:
    return f"connector-{connection}"


def connection_queue(connection: str, rate_limit_per_second: float | None) -> Queue:
    """Register (or update) the connection's queue with its limiter."""
    limit = max(1, math.floor(rate_limit_per_second)) if rate_limit_per_second else None
    return DBOS.register_queue(
        queue_name(connection),
        worker_concurrency=1,
        limiter={"limit": limit, "period": 1.0} if limit else None,
        on_conflict="always_update",
    )


def register_connection_queues(sessions: sessionmaker[Session]) -> int:
    """Register the queue of every configured connection (at start, after launch)."""
    with reading(sessions) as session:
        rows = connections.connection_rates(session)
    for name, rate in rows:
        connection_queue(name, rate)
    return len(rows)


@DBOS.step()
def _sync_step(connection: str, capability: str) -> dict[str, Any]:
    from promoflow.runtime import get_runtime

    result = syncing.sync(get_runtime().sessions, connection, capability)
    return {"pages": result.pages, "records": result.records, "seconds": result.seconds}


@DBOS.workflow()
def sync_job(connection: str, capability: str) -> dict[str, Any]:
    """One sync run; its outcome (or the error) is the workflow's result."""
    return _sync_step(connection, capability)


def enqueue_sync(connection: str, capability: str) -> Any:
    """Put a sync on the connection's queue; returns the DBOS workflow handle."""
    from promoflow.runtime import get_runtime

    with reading(get_runtime().sessions) as session:
        row = connections.get_connection(session, connection)
        rate = row.rate_limit_per_second
    queue = connection_queue(connection, rate)
    return queue.enqueue(sync_job, connection, capability)

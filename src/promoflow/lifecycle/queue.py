"""The queue promotion lifecycles start on, so that any workflow process may run them.

A process that runs workflows (`run_workflows`, the default) starts a submitted
revision's workflow itself, at once. An API-only `serve` of the scaled mode
enqueues it here instead (its id fixed by promotion and revision, so a repeat
enqueues nothing), and every worker takes work from the queue. DBOS hands a
dead worker's workflows to the other processes through its own internal queue.
No concurrency limit: a lifecycle spends its life waiting for people and dates.
"""

from __future__ import annotations

from dbos import DBOS, Queue

LIFECYCLE_QUEUE = "promotion-lifecycle"
_queue: Queue | None = None


def register_lifecycle_queue(poll_seconds: float) -> Queue:
    """Register the queue (after DBOS launched); a process polls it every `poll_seconds`."""
    global _queue
    _queue = DBOS.register_queue(
        LIFECYCLE_QUEUE, polling_interval_sec=poll_seconds, on_conflict="always_update"
    )
    return _queue


def lifecycle_queue() -> Queue:
    """The registered queue (start_runtime registers it)."""
    if _queue is None:
        raise RuntimeError("the lifecycle queue is not registered: call start_runtime() first")
    return _queue

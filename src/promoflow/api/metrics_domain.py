"""The domain gauges: what the business state looks like, read at scrape time.

Read through the services in one short read-pool session: five grouped counts on
indexed columns. A scrape within `metrics_cache_seconds` of the last reuses its
answer, so Prometheus and a second scraper (or a dashboard's refreshes) never add
database load; a database that does not answer makes `promoflow_domain_metrics_up`
0 instead of failing the scrape, so the HTTP series still arrive.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from promoflow.events import service as events_service
from promoflow.exceptions import service as exceptions_service
from promoflow.gates import service as gates_service
from promoflow.integration import service as integration_service
from promoflow.integration.schemas import CIRCUIT_STATES
from promoflow.kit.logging import get_logger
from promoflow.promotions import service as promotions_service
from promoflow.runtime import get_runtime

log = get_logger(__name__)


@dataclass(frozen=True)
class DomainSnapshot:
    """The business state the gauges show, read in one session."""

    promotions_by_state: dict[str, int]
    gate_failures: dict[str, int]
    open_cases_by_kind: dict[str, int]
    connections: list[dict[str, Any]]
    outbox_pending: int
    outbox_lag_seconds: float


def read_snapshot() -> DomainSnapshot:
    """Read the domain gauges from the database through the services."""
    with get_runtime().api_reads() as session:
        pending, lag = events_service.outbox_lag(session)
        return DomainSnapshot(
            promotions_by_state=promotions_service.count_by_state(session),
            gate_failures=gates_service.failure_counts(session),
            open_cases_by_kind=exceptions_service.open_counts_by_kind(session),
            connections=integration_service.list_connections(session),
            outbox_pending=pending,
            outbox_lag_seconds=lag,
        )


def _gauge(name: str, doc: str, labels: list[str], rows: dict[Any, float]) -> Metric:
    family = GaugeMetricFamily(name, doc, labels=labels)
    for key, value in sorted(rows.items()):
        family.add_metric(list(key) if isinstance(key, tuple) else [key], value)
    return family


def snapshot_metrics(snapshot: DomainSnapshot) -> Iterator[Metric]:
    """The Prometheus families of one snapshot."""
    yield _gauge(
        "promoflow_promotion_workflows",
        "Promotions (one lifecycle workflow per revision) in each lifecycle state.",
        ["state"],
        dict(snapshot.promotions_by_state),
    )
    failures = CounterMetricFamily(
        "promoflow_gate_failures", "Launch-gate evaluations that failed, per gate.", labels=["gate"]
    )
    for gate, count in sorted(snapshot.gate_failures.items()):
        failures.add_metric([gate], count)
    yield failures
    yield _gauge(
        "promoflow_open_cases",
        "Open exception cases per kind.",
        ["kind"],
        dict(snapshot.open_cases_by_kind),
    )
    circuits: dict[Any, float] = {}
    enabled: dict[Any, float] = {}
    for row in snapshot.connections:
        enabled[(row["name"], row["connector"])] = 1.0 if row["enabled"] else 0.0
        for state in CIRCUIT_STATES:
            circuits[(row["name"], state)] = 1.0 if row["health"]["circuit_state"] == state else 0.0
    yield _gauge(
        "promoflow_connector_enabled",
        "1 when the connection is enabled (its syncs and calls run).",
        ["connection", "connector"],
        enabled,
    )
    yield _gauge(
        "promoflow_connector_circuit_state",
        "1 for the circuit breaker state each connection is in (open: calls are refused).",
        ["connection", "state"],
        circuits,
    )
    yield GaugeMetricFamily(
        "promoflow_outbox_pending_events",
        "Events recorded but not yet relayed to the event bus.",
        value=snapshot.outbox_pending,
    )
    yield GaugeMetricFamily(
        "promoflow_outbox_lag_seconds",
        "Age of the oldest event not yet relayed (0 when none waits).",
        value=snapshot.outbox_lag_seconds,
    )


class DomainCollector(Collector):
    """Collects the domain gauges at scrape time, through a short cache."""

    def __init__(
        self, read: Callable[[], DomainSnapshot] = read_snapshot, cache_seconds: float = 10.0
    ) -> None:
        self.read = read
        self.cache_seconds = cache_seconds
        self._lock = threading.Lock()  # one scrape reads; a concurrent one waits for it
        self._cached: tuple[float, DomainSnapshot] | None = None

    def _snapshot(self) -> DomainSnapshot | None:
        with self._lock:
            now = time.monotonic()
            if self._cached is not None and now - self._cached[0] < self.cache_seconds:
                return self._cached[1]
            try:
                snapshot = self.read()
            except Exception as error:  # the scrape still answers, with up=0
                log.warning("domain_metrics_failed", error_type=type(error).__name__)
                return None
            self._cached = (now, snapshot)
            return snapshot

    def describe(self) -> list[Metric]:
        # Registering asks for the names; answering none keeps it from reading the
        # database at start-up (before the runtime is open).
        return []

    def collect(self) -> Iterator[Metric]:
        snapshot = self._snapshot()
        yield GaugeMetricFamily(
            "promoflow_domain_metrics_up",
            "1 when the domain gauges below were read from the database, 0 when it failed.",
            value=0 if snapshot is None else 1,
        )
        if snapshot is not None:
            yield from snapshot_metrics(snapshot)

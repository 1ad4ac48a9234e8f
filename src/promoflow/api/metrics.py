"""Prometheus metrics: what the API measures, and the protected `/metrics` scrape.

One registry per app: HTTP latency by route template and status, requests in
flight, refusals by kind, this process's CPU and memory, and the domain gauges
(api/metrics_domain.py), read from the database at scrape time through the
services, and cached for `metrics_cache_seconds`.

Several processes: each `promoflow serve` is one process (one uvicorn worker)
with its own registry, so Prometheus scrapes each as its own target and sums
the HTTP series across them (`sum by (route) (rate(...))`). The domain gauges
describe the shared database, so every process reports the same values: take
`max`, not `sum`, of them. (prometheus-client's multiprocess mode is for several
workers behind one port, which promoflow does not run.)

Who may scrape: with `metrics_token` set, a client sending
`Authorization: Bearer <token>`; without it, clients on the loopback interface
only (a Prometheus, or an agent, on the same host). The series name routes,
connections and volumes of work: not secrets, but not for the internet either.
"""

from __future__ import annotations

import hmac
import ipaddress
from collections.abc import Callable

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client.process_collector import ProcessCollector

from promoflow.api.problems import Unauthenticated
from promoflow.kit.errors import Forbidden

# From a fast read (5 ms) to the longest a client waits behind the overload guard.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
_REFUSALS = {413: "too_large", 429: "rate_limited", 503: "unavailable"}


class HttpMetrics:
    """The HTTP series of one app, in its own registry."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.registry = registry
        self.latency = Histogram(
            "promoflow_http_request_duration_seconds",
            "Time from request to the end of its response, by route template and status.",
            ["method", "route", "status"],
            buckets=LATENCY_BUCKETS,
            registry=registry,
        )
        self.in_flight = Gauge(
            "promoflow_http_requests_in_flight",
            "Requests being served now (waiting for a slot included).",
            registry=registry,
        )
        self.refused = Counter(
            "promoflow_http_requests_refused",
            "Requests refused before any work: too_large (413), rate_limited (429), "
            "unavailable (503: overloaded or not ready).",
            ["reason"],
            registry=registry,
        )
        for reason in _REFUSALS.values():  # shown at 0 before the first refusal
            self.refused.labels(reason=reason)

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        """Count one finished request."""
        self.latency.labels(method=method, route=route, status=str(status)).observe(seconds)
        reason = _REFUSALS.get(status)
        if reason is not None:
            self.refused.labels(reason=reason).inc()


def new_registry() -> CollectorRegistry:
    """A registry with this process's own CPU, memory and file-descriptor series."""
    registry = CollectorRegistry()
    ProcessCollector(registry=registry)
    return registry


_LOOPBACK = (ipaddress.ip_network("127.0.0.0/8"), ipaddress.ip_network("::1/128"))


def _on_loopback(host: str | None) -> bool:
    try:
        address = ipaddress.ip_address(host or "")
    except ValueError:
        return False
    return any(address in network for network in _LOOPBACK)


def scrape_guard(token: str) -> Callable[[Request], None]:
    """A dependency admitting the scrape token, or (without one configured) loopback clients."""

    def admit(request: Request) -> None:
        if token:
            offered = request.headers.get("authorization", "")
            if not hmac.compare_digest(offered.encode(), f"Bearer {token}".encode()):
                raise Unauthenticated(
                    "/metrics needs the scrape token: send 'Authorization: Bearer <token>' "
                    "with the value of PROMOFLOW_METRICS_TOKEN"
                )
            return
        host = request.client.host if request.client else None
        if not _on_loopback(host):
            raise Forbidden(
                f"/metrics answers loopback clients only, and {host} is not one; set "
                "PROMOFLOW_METRICS_TOKEN and scrape with that bearer token"
            )

    return admit


def metrics_router(registry: CollectorRegistry, token: str) -> APIRouter:
    """The `/metrics` route (left out of the API's document: it is for Prometheus)."""
    router = APIRouter()

    @router.get("/metrics", include_in_schema=False, dependencies=[Depends(scrape_guard(token))])
    def metrics() -> Response:
        """The Prometheus text exposition of this process's registry."""
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    return router

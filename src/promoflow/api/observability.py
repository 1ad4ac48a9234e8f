"""Wires the observability parts into an app: tracing, request context, /metrics."""

from __future__ import annotations

from fastapi import FastAPI

from promoflow.api.metrics import HttpMetrics, metrics_router, new_registry
from promoflow.api.metrics_domain import DomainCollector
from promoflow.api.request_context import RequestContext
from promoflow.config import Settings
from promoflow.kit.tracing import configure_tracing


def install_observability(app: FastAPI, settings: Settings) -> None:
    """Traces when an exporter is configured; request ids, logs and metrics always."""
    configure_tracing(settings.otel_exporter)
    registry = new_registry()
    registry.register(DomainCollector(cache_seconds=settings.metrics_cache_seconds))
    metrics = HttpMetrics(registry)
    app.state.metrics = metrics
    app.include_router(metrics_router(registry, settings.metrics_token))
    app.add_middleware(RequestContext, metrics=metrics)

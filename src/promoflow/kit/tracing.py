"""OpenTelemetry traces, only when an exporter is configured.

The code everywhere speaks the OpenTelemetry API (a dependency-light package):
without an SDK every span is a no-op that still carries the caller's trace id, so
the default path costs nothing. `configure_tracing` installs the SDK (the `otel`
extra) when `otel_exporter` is `otlp` (configured by the standard
OTEL_EXPORTER_OTLP_* variables) or `console`. DBOS then traces every workflow and
step through the same provider (runtime.py), and `span` marks our own work:
API requests (api/request_context.py) and connector calls (connectors/resilience.py).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager

from opentelemetry import trace
from opentelemetry.trace import Span

TRACER_NAME = "promoflow"
Attribute = str | int | float | bool
_tracer = trace.get_tracer(TRACER_NAME)


class TracingUnavailable(RuntimeError):
    """An exporter is configured, but the OpenTelemetry SDK is not installed."""


def configure_tracing(exporter: str, service_name: str = "promoflow") -> None:
    """Install the SDK's tracer provider with the named exporter; `none` leaves the no-op."""
    if exporter == "none" or tracing_enabled():
        return
    try:
        from opentelemetry.sdk.resources import SERVICE_NAME, Resource
        from opentelemetry.sdk.trace import SpanProcessor, TracerProvider
        from opentelemetry.sdk.trace.export import (
            BatchSpanProcessor,
            ConsoleSpanExporter,
            SimpleSpanProcessor,
        )
    except ImportError as error:
        raise TracingUnavailable(
            f"otel_exporter={exporter!r} needs the OpenTelemetry SDK: install promoflow[otel], "
            "or set PROMOFLOW_OTEL_EXPORTER=none"
        ) from error
    processor: SpanProcessor
    if exporter == "otlp":
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        processor = BatchSpanProcessor(OTLPSpanExporter())
    else:
        processor = SimpleSpanProcessor(ConsoleSpanExporter())
    provider = TracerProvider(resource=Resource({SERVICE_NAME: service_name}))
    provider.add_span_processor(processor)
    trace.set_tracer_provider(provider)


def tracing_enabled() -> bool:
    """Whether a real (SDK) tracer provider records spans in this process."""
    provider = trace.get_tracer_provider()
    return not isinstance(provider, trace.ProxyTracerProvider | trace.NoOpTracerProvider)


@contextmanager
def span(name: str, attributes: Mapping[str, Attribute] | None = None) -> Iterator[Span]:
    """A child span of the current one (a no-op without the SDK); errors are recorded on it."""
    with _tracer.start_as_current_span(name, attributes=attributes) as current:
        yield current


def trace_id_of(current: Span) -> str | None:
    """The span's W3C trace id as 32 hex digits, or None when it has none."""
    context = current.get_span_context()
    return format(context.trace_id, "032x") if context.is_valid else None


def tracer() -> trace.Tracer:
    """The tracer promoflow's spans come from."""
    return _tracer

"""Every request's id, trace and measurements, outermost of all middleware.

- **Request id.** A well-formed `X-Request-ID` from the client (or its proxy) is
  kept, anything else is replaced by a fresh one; either way it is echoed in the
  response, so a client can quote it and an operator find its log lines.
- **Trace id.** A valid W3C `traceparent` makes this request part of the
  caller's trace; without one the request starts its own. With an exporter
  configured (kit/tracing.py) a server span is recorded around the request.
- **Logs.** Both ids are bound to structlog's context for the request, so every
  line logged while serving it (in the handler's thread too) carries them; one
  `http_request` line per request gives method, route, status and duration.
- **Metrics.** Latency by route template and status, requests in flight, and
  refusals (413, 429, 503) by kind (api/metrics.py).

Outermost, so that what the other middleware refuses (413, 429, 503) is counted,
logged and carries its request id too.
"""

from __future__ import annotations

import re
import secrets
import time
import uuid

import structlog
from opentelemetry.trace import SpanKind
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator
from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from promoflow.api.metrics import HttpMetrics
from promoflow.api.routing import route_template
from promoflow.kit.logging import get_logger
from promoflow.kit.tracing import trace_id_of, tracer

REQUEST_ID_HEADER = "X-Request-ID"
# Printable, no spaces or quotes, at most 128 characters: a UUID, a ULID, a proxy's
# own id all fit; a line break or a megabyte of text (log injection) does not.
_WELL_FORMED = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:/+=-]{0,127}$")
_propagator = TraceContextTextMapPropagator()
log = get_logger("promoflow.http")


def request_id_from(headers: Headers) -> str:
    """The client's request id when well formed, else a new one."""
    offered = headers.get(REQUEST_ID_HEADER, "")
    return offered if _WELL_FORMED.match(offered) else uuid.uuid4().hex


class RequestContext:
    """ASGI middleware: request id, trace id, one log line and the HTTP metrics."""

    def __init__(self, app: ASGIApp, *, metrics: HttpMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        request_id = request_id_from(headers)
        # One id for the response header, the log lines and the audit record.
        scope.setdefault("state", {})["request_id"] = request_id
        method, route = scope["method"], route_template(scope)
        parent = _propagator.extract({"traceparent": headers.get("traceparent", "")})
        status = 500  # what the client sees if the app raises before it answers
        started = time.perf_counter()

        async def observed(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
                MutableHeaders(scope=message)[REQUEST_ID_HEADER] = request_id
            await send(message)

        with (
            tracer().start_as_current_span(
                f"{method} {route}",
                context=parent,
                # FastAPI records the SERVER span itself once a tracer provider is
                # set; this one spans the middleware too (limits, slots, body).
                kind=SpanKind.INTERNAL,
                attributes={"http.request.method": method, "http.route": route},
            ) as span,
            structlog.contextvars.bound_contextvars(
                request_id=request_id,
                # A request that joined no trace (and no SDK to start one) still gets
                # an id of the W3C shape, so its log lines can be told apart.
                trace_id=trace_id_of(span) or secrets.token_hex(16),
            ),
            self.metrics.in_flight.track_inprogress(),
        ):
            try:
                await self.app(scope, receive, observed)
            finally:
                elapsed = time.perf_counter() - started
                span.set_attribute("http.response.status_code", status)
                self.metrics.observe(method, route, status, elapsed)
                log.info(
                    "http_request",
                    method=method,
                    route=route,
                    status=status,
                    duration_ms=round(elapsed * 1000, 2),
                )

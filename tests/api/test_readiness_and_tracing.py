"""/readyz asks the event bus too, and traces cross API and connector calls (issue 12, item 7).

NATS is reached through a TCP relay the test can cut, as a network partition
would; the server itself keeps running for the other tests.
"""

from __future__ import annotations

import socket
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import suppress
from urllib.parse import urlparse

import pytest
from fastapi.testclient import TestClient

from nats_support import require_nats
from promoflow.config import Settings

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
PARENT_SPAN = "00f067aa0ba902b7"


class Relay:
    """Forwards TCP connections to one address until `cut`, which drops them all."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.sockets: list[socket.socket] = [self.listener]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(self.target)
            self.sockets += [client, upstream]
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(source, sink), daemon=True).start()

    @staticmethod
    def _pipe(source: socket.socket, sink: socket.socket) -> None:
        with suppress(OSError):
            while data := source.recv(65536):
                sink.sendall(data)
        with suppress(OSError):
            sink.shutdown(socket.SHUT_RDWR)

    def cut(self) -> None:
        for sock in self.sockets:
            with suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()


@pytest.fixture
def nats_bus_through_relay(runtime: object) -> Iterator[tuple[object, Relay]]:
    """A started NatsBus reaching NATS through a relay, on a stream of its own."""
    from promoflow.events.consumers import Dispatcher
    from promoflow.events.nats_bus import NatsBus
    from promoflow.runtime import get_runtime

    url = urlparse(require_nats())
    relay = Relay((url.hostname or "127.0.0.1", url.port or 4222))
    suffix = uuid.uuid4().hex[:8]
    bus = NatsBus(
        Dispatcher(get_runtime().sessions),
        f"nats://127.0.0.1:{relay.port}",
        stream=f"READYZ_{suffix}",
        subject_prefix=f"readyz{suffix}.",
    )
    bus.start()
    bus.delete_stream()  # not needed to answer a ping; leave nothing behind
    try:
        yield bus, relay
    finally:
        relay.cut()
        bus.close()


def test_readyz_is_503_naming_the_event_bus_when_nats_is_unreachable(
    client: TestClient,
    nats_bus_through_relay: tuple[object, Relay],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from promoflow.runtime import get_runtime

    bus, relay = nats_bus_through_relay
    monkeypatch.setattr(get_runtime(), "bus", bus)
    ready = client.get("/readyz")
    assert ready.status_code == 200, ready.text
    assert ready.json() == {"status": "ready", "database": "ok", "event_bus": "ok"}

    relay.cut()
    not_ready = client.get("/readyz")
    assert not_ready.status_code == 503
    assert not_ready.headers["content-type"] == "application/problem+json"
    assert not_ready.json()["detail"] == "the event bus is not reachable"


@pytest.fixture(scope="module")
def spans() -> Callable[[], list[object]]:
    """The SDK's tracer provider with an in-memory exporter (what an exporter would get)."""
    pytest.importorskip("opentelemetry.sdk", reason="the otel extra is not installed")
    from opentelemetry import trace
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    from promoflow.kit.tracing import tracing_enabled

    exporter = InMemorySpanExporter()
    if not tracing_enabled():
        trace.set_tracer_provider(TracerProvider())
    provider = trace.get_tracer_provider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))  # type: ignore[attr-defined]
    return lambda: list(exporter.get_finished_spans())


def test_a_request_span_continues_the_callers_trace(
    api_settings: Settings,
    catalog: object,
    spans: Callable[[], list[object]],
    auth: Callable[[str], dict[str, str]],
) -> None:
    from promoflow.app import create_app

    with TestClient(create_app(api_settings, manage_runtime=False)) as client:
        answer = client.get(
            "/api/v1/promotions",
            headers={**auth("auditor"), "traceparent": f"00-{TRACE_ID}-{PARENT_SPAN}-01"},
        )
    assert answer.status_code == 200
    [server] = [
        s
        for s in spans()
        if s.name == "GET /api/v1/promotions"  # type: ignore[attr-defined]
        and s.instrumentation_scope.name == "promoflow"  # type: ignore[attr-defined]
    ]
    assert format(server.context.trace_id, "032x") == TRACE_ID
    assert format(server.parent.span_id, "016x") == PARENT_SPAN
    assert server.attributes["http.response.status_code"] == 200


def test_a_connector_call_is_a_child_span_of_the_work_that_made_it(
    spans: Callable[[], list[object]],
) -> None:
    from promoflow.connectors.resilience import Guard
    from promoflow.kit.tracing import span

    with span("lifecycle step publish_prices") as step:
        assert Guard("pos-feed").call("publish_prices", lambda: "sent") == "sent"
    [call] = [s for s in spans() if s.name == "connector publish_prices"]  # type: ignore[attr-defined]
    assert call.parent.span_id == step.get_span_context().span_id
    assert call.context.trace_id == step.get_span_context().trace_id
    assert call.attributes["promoflow.connection"] == "pos-feed"

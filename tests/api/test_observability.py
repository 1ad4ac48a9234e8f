"""What an operator sees (issue 12, item 7): request ids, trace ids in the logs,
the Prometheus scrape and its protection.

Exposition parsed with prometheus-client's own parser (the Prometheus text format
0.0.4); `traceparent` as W3C Trace Context, section 3.2
(version "00", 32-hex trace-id, 16-hex parent-id, 2-hex flags).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import structlog
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from promoflow.config import Settings

LIST = "/api/v1/promotions"
TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
TRACEPARENT = f"00-{TRACE_ID}-00f067aa0ba902b7-01"


@pytest.fixture
def app_client(api_settings: Settings, catalog: object) -> Iterator[Callable[..., TestClient]]:
    """`app_client(peer=..., **settings)`: a client of a fresh app (own registry, own limits)."""
    from promoflow.app import create_app

    opened: list[TestClient] = []

    def open_client(peer: str = "127.0.0.1", **settings: Any) -> TestClient:
        app = create_app(api_settings.model_copy(update=settings), manage_runtime=False)
        client = TestClient(app, client=(peer, 50123))
        opened.append(client.__enter__())
        return client

    yield open_client
    for client in opened:
        client.__exit__(None, None, None)


def _samples(text: str) -> list[tuple[str, dict[str, str], float]]:
    return [
        (sample.name, dict(sample.labels), sample.value)
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    ]


def _value(samples: list[tuple[str, dict[str, str], float]], name: str, **labels: str) -> float:
    found = [v for n, lab, v in samples if n == name and labels.items() <= lab.items()]
    assert found, f"no {name}{labels} in the scrape"
    return sum(found)


def test_a_scrape_shows_the_requests_refusals_and_the_business_state(
    app_client: Callable[..., TestClient], auth: Callable[[str], dict[str, str]]
) -> None:
    from promoflow.exceptions import service as exceptions_service
    from promoflow.gates import service as gates_service
    from promoflow.promotions import service as promotions_service
    from promoflow.runtime import get_runtime

    client = app_client(rate_limit_reads="2/minute")
    headers = auth("merchandiser")
    for _ in range(2):
        assert client.get(LIST, headers=headers).status_code == 200
    assert client.get(LIST, headers=headers).status_code == 429
    assert client.get(LIST).status_code == 401
    assert client.get("/api/v1/promotions/PRM-99999", headers=auth("auditor")).status_code == 404

    scrape = client.get("/metrics")
    assert scrape.status_code == 200
    assert scrape.headers["content-type"].startswith("text/plain")
    samples = _samples(scrape.text)
    latency = "promoflow_http_request_duration_seconds_count"
    assert _value(samples, latency, method="GET", route=LIST, status="200") == 2
    assert _value(samples, latency, method="GET", route=LIST, status="429") == 1
    assert _value(samples, latency, method="GET", route=LIST, status="401") == 1
    # By route template, not by path: one series for every promotion looked up.
    assert _value(samples, latency, route="/api/v1/promotions/{ref}", status="404") == 1
    assert _value(samples, "promoflow_http_requests_refused_total", reason="rate_limited") == 1
    assert _value(samples, "promoflow_http_requests_refused_total", reason="unavailable") == 0
    # The scrape itself is in flight while it is taken.
    assert _value(samples, "promoflow_http_requests_in_flight") == 1

    assert _value(samples, "promoflow_domain_metrics_up") == 1
    with get_runtime().api_reads() as session:
        states = promotions_service.count_by_state(session)
        cases = exceptions_service.open_counts_by_kind(session)
        failures = gates_service.failure_counts(session)
    for state, count in states.items():
        assert _value(samples, "promoflow_promotion_workflows", state=state) == count
    for kind, count in cases.items():
        assert _value(samples, "promoflow_open_cases", kind=kind) == count
    assert _value(samples, "promoflow_outbox_pending_events") >= 0
    assert _value(samples, "promoflow_outbox_lag_seconds") >= 0
    for gate, count in failures.items():
        assert _value(samples, "promoflow_gate_failures_total", gate=gate) == count
    assert _value(samples, "process_resident_memory_bytes") > 0


def test_metrics_answer_loopback_only_unless_a_scrape_token_is_set(
    app_client: Callable[..., TestClient],
) -> None:
    remote = app_client(peer="203.0.113.9")
    refused = remote.get("/metrics")
    assert refused.status_code == 403
    assert "PROMOFLOW_METRICS_TOKEN" in refused.json()["detail"]

    with_token = app_client(peer="203.0.113.9", metrics_token="scrape-secret-0123456789")
    assert with_token.get("/metrics").status_code == 401
    wrong = with_token.get("/metrics", headers={"Authorization": "Bearer guess"})
    assert wrong.status_code == 401
    right = with_token.get("/metrics", headers={"Authorization": "Bearer scrape-secret-0123456789"})
    assert right.status_code == 200
    assert "promoflow_http_request_duration_seconds" in right.text


def _log_lines(text: str, event: str) -> list[dict[str, Any]]:
    lines = []
    for line in text.splitlines():
        if line.startswith("{") and f'"{event}"' in line:
            lines.append(json.loads(line))
    return lines


@pytest.fixture
def json_logs() -> Iterator[None]:
    """The process's JSON logging, as `promoflow serve` configures it."""
    from promoflow.kit.logging import configure_logging

    configure_logging(json=True)
    yield
    structlog.reset_defaults()  # the other tests' logging, as it was


def test_a_well_formed_request_id_is_kept_echoed_and_logged(
    app_client: Callable[..., TestClient],
    auth: Callable[[str], dict[str, str]],
    json_logs: None,
    capsys: pytest.CaptureFixture[str],
) -> None:
    client = app_client()
    answer = client.get(LIST, headers={**auth("auditor"), "X-Request-ID": "order-sync-7f3a"})
    assert answer.headers["X-Request-ID"] == "order-sync-7f3a"
    [line] = [
        entry
        for entry in _log_lines(capsys.readouterr().out, "http_request")
        if entry.get("request_id") == "order-sync-7f3a"
    ]
    assert line["route"] == LIST and line["status"] == 200 and line["method"] == "GET"
    assert len(line["trace_id"]) == 32


@pytest.mark.parametrize("offered", ["two words", "x" * 129, "", 'quote"d', "line\tbreak"])
def test_a_malformed_request_id_is_replaced_by_a_fresh_one(
    app_client: Callable[..., TestClient], offered: str
) -> None:
    answer = app_client().get("/healthz", headers={"X-Request-ID": offered})
    echoed = answer.headers["X-Request-ID"]
    assert echoed != offered
    assert len(echoed) == 32 and int(echoed, 16) >= 0


def test_refusals_carry_a_request_id_too(
    app_client: Callable[..., TestClient], auth: Callable[[str], dict[str, str]]
) -> None:
    client = app_client(rate_limit_reads="1/minute")
    client.get(LIST, headers=auth("auditor"))
    refused = client.get(LIST, headers={**auth("auditor"), "X-Request-ID": "retry-42"})
    assert refused.status_code == 429
    assert refused.headers["X-Request-ID"] == "retry-42"


def test_the_trace_id_of_traceparent_is_in_every_log_line_of_the_request(
    app_client: Callable[..., TestClient],
    auth: Callable[[str], dict[str, str]],
    json_logs: None,
    capsys: pytest.CaptureFixture[str],
) -> None:
    client = app_client(rate_limit_reads="1/minute")
    assert client.get(LIST, headers=auth("auditor")).status_code == 200
    capsys.readouterr()
    # A refused request logs twice: the limiter's line and the access line.
    answer = client.get(LIST, headers={**auth("auditor"), "traceparent": TRACEPARENT})
    assert answer.status_code == 429
    out = capsys.readouterr().out
    lines = _log_lines(out, "rate_limited") + _log_lines(out, "http_request")
    assert len(lines) == 2
    assert {line["trace_id"] for line in lines} == {TRACE_ID}
    assert len({line["request_id"] for line in lines}) == 1


def test_a_malformed_traceparent_starts_a_trace_of_its_own(
    app_client: Callable[..., TestClient],
    json_logs: None,
    capsys: pytest.CaptureFixture[str],
) -> None:
    bad = f"00-{'0' * 32}-00f067aa0ba902b7-01"  # an all-zero trace id is invalid
    app_client().get("/healthz", headers={"traceparent": bad})
    [line] = _log_lines(capsys.readouterr().out, "http_request")
    assert line["trace_id"] != "0" * 32 and len(line["trace_id"]) == 32

"""The Guard every remote call goes through: retries with backoff, circuit breaker, health."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import pytest
from sqlalchemy.orm import Session, sessionmaker

from promoflow.connectors.ports import ConnectorError, ConnectorUnavailable, MalformedPayload
from promoflow.connectors.resilience import (
    BreakerPolicy,
    Guard,
    RetryPolicy,
    error_rate,
    reset_breakers,
)
from promoflow.integration.models import ConnectorHealth


@pytest.fixture(autouse=True)
def _fresh_breakers() -> Iterator[None]:
    reset_breakers()
    yield
    reset_breakers()


class System:
    """A remote system whose next answers a test scripts: an error or a value."""

    def __init__(self, *answers: object) -> None:
        self.answers = list(answers)
        self.calls = 0

    def __call__(self) -> object:
        self.calls += 1
        answer = self.answers.pop(0) if self.answers else "ok"
        if isinstance(answer, Exception):
            raise answer
        return answer


def _guard(name: str = "erp", *, threshold: int = 3, reset: float = 60.0, **kw: object) -> Guard:
    sleeps: list[float] = []
    guard = Guard(
        name,
        retry=RetryPolicy(attempts=4, base_seconds=0.5, max_seconds=8.0),
        breaker=BreakerPolicy(failure_threshold=threshold, reset_seconds=reset),
        sleep=sleeps.append,
        **kw,  # type: ignore[arg-type]
    )
    guard.sleeps = sleeps  # type: ignore[attr-defined]
    return guard


def down() -> ConnectorError:
    return ConnectorError("erp", "HTTP 503", retryable=True)


def test_a_transient_failure_is_retried_with_growing_jittered_waits() -> None:
    guard = _guard(threshold=10)
    system = System(down(), down(), "stock")
    assert guard.call("positions", system) == "stock"
    assert system.calls == 3
    waits = guard.sleeps  # type: ignore[attr-defined]
    assert len(waits) == 2
    assert 0 <= waits[0] <= 0.5 * 2**0 + 1e-9 and 0 <= waits[1] <= 0.5 * 2**1 + 1e-9


def test_backoff_is_jittered_not_lockstep() -> None:
    waits: set[float] = set()
    for index in range(5):
        guard = _guard(f"erp-{index}", threshold=10)
        guard.call("positions", System(down(), "ok"))
        waits.update(guard.sleeps)  # type: ignore[attr-defined]
    assert len(waits) > 1  # five clients retrying after one outage do not all wait alike


def test_a_request_the_system_refuses_is_not_retried() -> None:
    guard = _guard()
    refused = ConnectorError("erp", "HTTP 400 bad $filter", retryable=False)
    system = System(refused)
    with pytest.raises(ConnectorError, match="bad \\$filter"):
        guard.call("positions", system)
    assert system.calls == 1
    malformed = System(MalformedPayload("erp", "bad page", field="rows[3].Quantity", value="x"))
    with pytest.raises(MalformedPayload):
        guard.call("positions", malformed)
    assert malformed.calls == 1 and guard.circuit_state == "closed"


def test_the_circuit_opens_and_then_fails_fast_without_calling() -> None:
    guard = _guard(threshold=3)
    system = System(*[down() for _ in range(10)])
    with pytest.raises(ConnectorError):
        guard.call("positions", system)  # 3 failed attempts trip the breaker mid-retry
    assert guard.circuit_state == "open"
    calls = system.calls
    with pytest.raises(ConnectorUnavailable, match="circuit open"):
        guard.call("positions", system)
    assert system.calls == calls  # the system was not bothered


def test_half_open_probe_closes_on_success_and_reopens_on_failure() -> None:
    guard = _guard(threshold=2, reset=0.2)
    with pytest.raises(ConnectorError):
        guard.call("positions", System(down(), down()))
    assert guard.circuit_state == "open"
    time.sleep(0.25)
    with pytest.raises(ConnectorError):
        guard.call("positions", System(down()))  # the probe fails: open again
    assert guard.circuit_state == "open"
    time.sleep(0.25)
    probe = System("back")
    assert guard.call("positions", probe) == "back" and probe.calls == 1
    assert guard.circuit_state == "closed"


def test_pacing_spaces_calls_by_the_rate_limit() -> None:
    guard = _guard("paced", threshold=10, rate_limit_per_second=4.0)
    for _ in range(3):
        guard.call("positions", System("ok"))
    # The sleep is recorded, not slept: back-to-back calls get slots 1/4 s apart.
    waits = guard.sleeps  # type: ignore[attr-defined]
    assert waits == pytest.approx([0.25, 0.5], abs=0.02)


def test_health_records_last_success_error_rate_and_circuit(
    private_engine: Callable[[str], object],
) -> None:
    from promoflow.kit.db import make_sessionmaker

    sessions: sessionmaker[Session] = make_sessionmaker(private_engine("health"))  # type: ignore[arg-type]
    guard = _guard("erp-health", threshold=2, sessions=sessions)
    guard.call("positions", System("ok"))
    with pytest.raises(ConnectorError):
        guard.call("positions", System(down(), down()))
    with sessions() as session:
        health = session.get(ConnectorHealth, "erp-health")
    assert health is not None
    assert health.last_success_at is not None and "HTTP 503" in health.last_error
    assert health.circuit_state == "open" and health.circuit_opened_at is not None
    assert (health.calls, health.failures) == (2, 1)
    assert error_rate(health.recent) == 0.5

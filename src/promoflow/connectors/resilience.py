"""Every remote call goes through a Guard: retries with backoff and jitter, a circuit breaker.

- Retries: a retryable `ConnectorError` (and connection errors) is tried again with
  exponential backoff and full jitter (tenacity's `wait_random_exponential`), so
  many workers retrying after one outage do not hit the system in lockstep.
  `MalformedPayload` and other non-retryable errors fail at once.
- Circuit breaker (pybreaker): after `failure_threshold` consecutive failed
  attempts the circuit opens and calls fail fast with `ConnectorUnavailable`
  without reaching the system; after `reset_seconds` one probe call goes through
  (half-open): success closes the circuit, failure opens it again. Breakers live
  per connection per process.
- Health: each call's outcome is recorded on `connector_health` (last success,
  last error, recent error rate, circuit state) for the command view, with the
  last `LAST_CALLS` calls themselves (operation, outcome, attempts, seconds, time,
  error code): kept in the database, since the worker makes the calls and the
  operator's `connectors diagnostics` runs in another process.

- Pacing: with `rate_limit_per_second`, calls of this process to the connection
  are spaced at least 1/rate apart (a few lines, so no library for it). Jobs
  (syncs, replays) are also rate-limited across processes by the connection's
  DBOS queue (`connectors.jobs`).
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

import httpx
import pybreaker
from sqlalchemy.orm import Session, sessionmaker
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception,
    stop_after_attempt,
    wait_random_exponential,
)

from promoflow.connectors.ports import ConnectorError, ConnectorUnavailable
from promoflow.integration.models import ConnectorHealth
from promoflow.kit.clock import utcnow
from promoflow.kit.db import transaction
from promoflow.kit.logging import get_logger
from promoflow.kit.tracing import span

T = TypeVar("T")
log = get_logger(__name__)
RECENT_WINDOW = 100
LAST_CALLS = 20  # calls kept per connection: enough for a support ticket, a small row
CALL_ERROR_EXCERPT = 300
_HTTP_STATUS = re.compile(r"\bHTTP (\d{3})\b")
STATE_NAMES = {"closed": "closed", "open": "open", "half-open": "half_open"}


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 4
    base_seconds: float = 0.2
    max_seconds: float = 5.0


@dataclass(frozen=True)
class BreakerPolicy:
    failure_threshold: int = 5
    reset_seconds: float = 30.0


def is_retryable(error: BaseException) -> bool:
    if isinstance(error, ConnectorError):
        return error.retryable
    return isinstance(error, httpx.TransportError | ConnectionError | TimeoutError)


class _HealthListener(pybreaker.CircuitBreakerListener):
    def __init__(self, guard: Guard) -> None:
        self._guard = guard

    def state_change(
        self, cb: pybreaker.CircuitBreaker, old_state: object, new_state: object
    ) -> None:
        name = STATE_NAMES.get(getattr(new_state, "name", str(new_state)), "closed")
        log.warning("circuit_state_changed", connection=self._guard.name, state=name)
        self._guard.record_state(name)


_breakers: dict[str, pybreaker.CircuitBreaker] = {}
_next_slot: dict[str, float] = {}
_pace_lock = threading.Lock()
_breakers_lock = threading.Lock()


def _breaker_for(guard: Guard) -> pybreaker.CircuitBreaker:
    with _breakers_lock:
        breaker = _breakers.get(guard.name)
        if breaker is None:
            breaker = pybreaker.CircuitBreaker(
                fail_max=guard.breaker_policy.failure_threshold,
                reset_timeout=guard.breaker_policy.reset_seconds,
                exclude=[lambda error: not is_retryable(error)],
                listeners=[_HealthListener(guard)],
                name=guard.name,
                throw_new_error_on_trip=False,
            )
            _breakers[guard.name] = breaker
        return breaker


def reset_breakers() -> None:
    """Forget every circuit (tests; a process restart does the same)."""
    with _breakers_lock:
        _breakers.clear()


class Guard:
    """Retries, backoff, circuit breaker and health for one connection's calls."""

    def __init__(
        self,
        name: str,
        *,
        sessions: sessionmaker[Session] | None = None,
        retry: RetryPolicy | None = None,
        breaker: BreakerPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
        rate_limit_per_second: float | None = None,
    ) -> None:
        self.name = name
        self._interval = 1.0 / rate_limit_per_second if rate_limit_per_second else 0.0
        self.sessions = sessions
        self.retry_policy = retry or RetryPolicy()
        self.breaker_policy = breaker or BreakerPolicy()
        self._sleep = sleep
        self._breaker = _breaker_for(self)

    @property
    def circuit_state(self) -> str:
        return STATE_NAMES.get(self._breaker.current_state, "closed")

    def call(self, operation: str, fn: Callable[[], T]) -> T:
        """Run `fn` with retries under the circuit breaker; raise a ConnectorError on failure."""
        started = time.perf_counter()
        attempts = 0

        def attempt() -> T:
            nonlocal attempts
            attempts += 1
            self._pace()
            try:
                return self._breaker.call(fn)
            except pybreaker.CircuitBreakerError:
                raise ConnectorUnavailable(
                    self.name,
                    f"{operation}: circuit open after repeated failures; "
                    f"next probe in up to {self.breaker_policy.reset_seconds:g} s",
                ) from None

        def before_sleep(state: RetryCallState) -> None:
            error = state.outcome.exception() if state.outcome else None
            log.info(
                "connector_retry",
                connection=self.name,
                operation=operation,
                attempt=state.attempt_number,
                error=str(error),
            )

        retrying = Retrying(
            stop=stop_after_attempt(self.retry_policy.attempts),
            wait=wait_random_exponential(
                multiplier=self.retry_policy.base_seconds, max=self.retry_policy.max_seconds
            ),
            retry=retry_if_exception(
                lambda error: is_retryable(error) and self.circuit_state != "open"
            ),
            sleep=self._sleep,
            before_sleep=before_sleep,
            reraise=True,
        )

        def called(error: BaseException | None = None) -> CallRecord:
            return CallRecord.of(operation, attempts, time.perf_counter() - started, error)

        try:
            # One span per call, retries inside it; the current trace (a request's,
            # a workflow step's) is its parent.
            attributes = {"promoflow.connection": self.name, "promoflow.operation": operation}
            with span(f"connector {operation}", attributes):
                result = retrying(attempt)
        except ConnectorError as error:
            self.record(False, f"{operation}: {error.message}", call=called(error))
            raise
        except Exception as error:
            self.record(False, f"{operation}: {error}", call=called(error))
            if is_retryable(error):
                raise ConnectorUnavailable(self.name, f"{operation}: {error}") from error
            raise
        self.record(True, call=called())
        return result

    def _pace(self) -> None:
        if not self._interval:
            return
        with _pace_lock:
            now = time.monotonic()
            slot = max(now, _next_slot.get(self.name, 0.0))
            _next_slot[self.name] = slot + self._interval
        if slot > now:
            self._sleep(slot - now)

    def record(self, ok: bool, error: str = "", *, call: CallRecord | None = None) -> None:
        """Add one call's outcome to the connection's health row (best effort).

        With `call`, the call joins the connection's last calls (the oldest drops out).
        """
        if self.sessions is None:
            return
        try:
            with transaction(self.sessions) as session:
                health = _health_row(session, self.name)
                now = utcnow()
                health.calls += 1
                health.recent = (health.recent + ("1" if ok else "0"))[-RECENT_WINDOW:]
                if ok:
                    health.last_success_at = now
                else:
                    health.failures += 1
                    health.last_failure_at = now
                    health.last_error = error[:2000]
                health.circuit_state = self.circuit_state
                if call is not None:
                    # A new list, so the JSON column sees the change.
                    health.last_calls = [*(health.last_calls or []), call.as_json()][-LAST_CALLS:]
        except Exception as failure:  # health must never break the call it describes
            log.warning("connector_health_not_recorded", connection=self.name, error=str(failure))

    def record_state(self, state: str) -> None:
        if self.sessions is None:
            return
        try:
            with transaction(self.sessions) as session:
                health = _health_row(session, self.name)
                health.circuit_state = state
                if state == "open":
                    health.circuit_opened_at = utcnow()
        except Exception as failure:
            log.warning("connector_health_not_recorded", connection=self.name, error=str(failure))


@dataclass(frozen=True)
class CallRecord:
    """One guarded call as diagnostics show it: never its arguments or payload.

    `error_code` is what a support engineer searches for: the system's own error
    code when the error carries one (`code`), else the HTTP status in its message,
    else the kind of failure (`ConnectorUnavailable`, `MalformedPayload`, ...).
    """

    operation: str
    ok: bool
    attempts: int
    seconds: float
    at: datetime
    error_code: str | None = None
    error: str = ""

    @classmethod
    def of(
        cls, operation: str, attempts: int, seconds: float, error: BaseException | None
    ) -> CallRecord:
        if error is None:
            return cls(operation, True, attempts, seconds, utcnow())
        message = error.message if isinstance(error, ConnectorError) else str(error)
        return cls(
            operation,
            False,
            attempts,
            seconds,
            utcnow(),
            error_code=error_code(error),
            error=message[:CALL_ERROR_EXCERPT],
        )

    def as_json(self) -> dict[str, Any]:
        return {
            "operation": self.operation,
            "outcome": "ok" if self.ok else "failed",
            "attempts": self.attempts,
            "seconds": round(self.seconds, 3),
            "at": self.at.isoformat(),
            "error_code": self.error_code,
            "error": self.error,
        }


def error_code(error: BaseException) -> str:
    """The most specific code an error offers: the system's, the HTTP status, its kind."""
    code = getattr(error, "code", None)
    if isinstance(code, str | int) and str(code):
        return str(code)
    found = _HTTP_STATUS.search(getattr(error, "message", None) or str(error))
    if found:
        return f"HTTP {found.group(1)}"
    return type(error).__name__


def _health_row(session: Session, name: str) -> ConnectorHealth:
    health = session.get(ConnectorHealth, name)
    if health is None:
        health = ConnectorHealth(
            connection=name,
            circuit_state="closed",
            last_error="",
            calls=0,
            failures=0,
            recent="",
            last_calls=[],
        )
        session.add(health)
    return health


def error_rate(recent: str) -> float | None:
    """Share of failed calls in the recent window (None before the first call)."""
    if not recent:
        return None
    return recent.count("0") / len(recent)

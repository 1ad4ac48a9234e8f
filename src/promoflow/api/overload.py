"""Overload: shed with 503 and Retry-After, never hang and never answer 500.

Two guards. An ASGI middleware admits at most `api_max_concurrency` requests
into the handlers at once (the same number of threads and of connections in
each request pool, so no admitted request ever waits for either); others wait
up to `api_queue_seconds` for a slot, or get 503 at once when
`api_max_queued` are already waiting. And the database's own "not now"
answers (no connection free in time, a lock not granted in time, a statement
cut off) become the same 503: the transaction was rolled back, so the client
may simply retry.

Starlette and uvicorn offer only a global connection cap that refuses without
a wait or a problem body (`--limit-concurrency`), so this is written here.
"""

from __future__ import annotations

import math

import anyio
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy import exc as sa_exc
from starlette.types import ASGIApp, Receive, Scope, Send

from promoflow.api.problems import problem_response, problem_type
from promoflow.config import Settings
from promoflow.kit.logging import get_logger

log = get_logger(__name__)

# Probes answer even when the API is saturated: an orchestrator must tell
# "busy" from "dead", and restarting a busy server only makes it busier.
UNGUARDED_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})

# SQLSTATEs that mean "not now" rather than "wrong": lock_not_available,
# query_canceled (statement_timeout), too_many_connections, cannot_connect_now.
_RETRYABLE_SQLSTATES = frozenset({"55P03", "57014", "53300", "57P03"})
_SQLITE_BUSY = ("database is locked", "database table is locked")


def overloaded_response(path: str, retry_after: int, detail: str) -> JSONResponse:
    """503 problem details with Retry-After."""
    return problem_response(
        503,
        "Service unavailable",
        detail,
        type_=problem_type("Overloaded"),
        instance=path,
        headers={"Retry-After": str(retry_after)},
    )


class RequestSlots:
    """ASGI middleware: at most `limit` requests inside the app, a bounded wait for the rest."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        limit: int,
        max_queued: int,
        queue_seconds: float,
        retry_after: int,
    ) -> None:
        self.app = app
        self.limit = limit
        self.max_queued = max_queued
        self.queue_seconds = queue_seconds
        self.retry_after = retry_after
        self._slots: anyio.Semaphore | None = None
        self._queued = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in UNGUARDED_PATHS:
            await self.app(scope, receive, send)
            return
        if self._slots is None:  # created on the server's event loop
            self._slots = anyio.Semaphore(self.limit)
        slots = self._slots
        if slots.value == 0 and self._queued >= self.max_queued:
            await self._shed(scope, receive, send, "too many requests are waiting")
            return
        acquired = False
        self._queued += 1
        try:
            # anyio's acquire is cancellation-safe: a slot handed over just as the
            # deadline fires is given back, so `acquired` is the whole truth.
            with anyio.move_on_after(self.queue_seconds):
                await slots.acquire()
                acquired = True
        finally:
            self._queued -= 1
        if not acquired:
            await self._shed(scope, receive, send, "no request slot came free in time")
            return
        try:
            await self.app(scope, receive, send)
        finally:
            slots.release()

    async def _shed(self, scope: Scope, receive: Receive, send: Send, why: str) -> None:
        log.warning("request_shed", path=scope["path"], reason=why)
        response = overloaded_response(
            scope["path"],
            self.retry_after,
            f"the server is at capacity ({why}); retry after {self.retry_after} s",
        )
        await response(scope, receive, send)


def _sqlstate(error: BaseException) -> str | None:
    return getattr(getattr(error, "orig", None), "sqlstate", None)


def is_retryable_database_error(error: BaseException) -> bool:
    """A database refusal that means "busy, try again" (and rolled everything back)."""
    if isinstance(error, sa_exc.TimeoutError):  # no pooled connection came free
        return True
    if isinstance(error, sa_exc.OperationalError):
        if _sqlstate(error) in _RETRYABLE_SQLSTATES:
            return True
        message = str(getattr(error, "orig", error))
        return any(text in message for text in _SQLITE_BUSY)
    return False


def install_overload_guard(app: FastAPI, settings: Settings) -> None:
    """Admit requests through bounded slots and turn "busy" database errors into 503."""
    app.add_middleware(
        RequestSlots,
        limit=settings.api_max_concurrency,
        max_queued=settings.api_max_queued,
        queue_seconds=settings.api_queue_seconds,
        retry_after=settings.api_retry_after_seconds,
    )
    retry_after = settings.api_retry_after_seconds

    async def database_busy(request: Request, error: Exception) -> JSONResponse:
        if not is_retryable_database_error(error):
            raise error
        log.warning("database_busy", path=request.url.path, error_type=type(error).__name__)
        return overloaded_response(
            request.url.path,
            retry_after,
            f"the database is busy; nothing was changed; retry after {retry_after} s",
        )

    app.add_exception_handler(sa_exc.TimeoutError, database_busy)
    app.add_exception_handler(sa_exc.OperationalError, database_busy)


def thread_tokens(settings: Settings) -> int:
    """Worker threads for sync handlers: one per slot, plus the probes and a margin."""
    return settings.api_max_concurrency + max(4, math.ceil(settings.api_max_concurrency / 4))

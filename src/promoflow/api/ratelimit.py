"""Rate limits: a client over its budget gets 429, before it can take a request slot.

Where it sits (outermost first): request context (request id, metrics) ->
**rate limits** -> body limits (api/limits.py) -> request slots (api/overload.py)
-> the routes, whose dependencies authenticate. So a client over its budget is
refused without its body being read and without waiting for, or holding, one of
the slots every other client shares: one noisy client meets 429, the rest never
see the 503 it would otherwise cause. The client is identified here, before the
route authenticates (`identify_client`); a credential the server does not
recognise counts as none, so inventing keys earns no fresh budget.

Budgets live in the `limits` library's storage: in this process by default, or
in Redis (`rate_limit_storage=redis://...`), where every serve process naming
the same Redis shares them. Should Redis fail, requests are let through (and the
failure logged): the limiter guards capacity, and it must not become the outage.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI
from limits.aio.storage import Storage
from limits.aio.strategies import (
    MovingWindowRateLimiter,
    RateLimiter,
    SlidingWindowCounterRateLimiter,
)
from limits.storage import storage_from_string
from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from promoflow.api.auth import (
    API_KEY_HEADER,
    CONSOLE_SESSION_COOKIE,
    KeyRing,
    verified_credentials,
)
from promoflow.api.openapi_amend import amend_openapi
from promoflow.api.problems import problem_response, problem_responses, problem_type
from promoflow.api.ratelimit_policy import (
    Client,
    RatePolicy,
    RateRule,
    rate_limit_headers,
    seconds_until,
)
from promoflow.api.routing import documented_routes, route_template
from promoflow.config import Settings
from promoflow.kit.logging import get_logger

log = get_logger(__name__)

# Probes and the scrape are never limited: an orchestrator or Prometheus must not
# be told "slow down" about the server's own health.
UNLIMITED_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})
# Nor the console's assets: static files, cached by the browser, cost no database.
UNLIMITED_PREFIX = "/static/"
KEY_PREFIX = "promoflow-ratelimit"


def identify_client(scope: Scope) -> Client:
    """Whose budget this request spends: the authenticated identity, else the IP address.

    The one place that decides it: a key of the development list by its actor; an
    API-key record or a bearer token by the principal the authenticator verified
    for it in the last minute (`auth.verified_credentials`); anything else by IP.
    """
    app = scope.get("app")
    keyring: KeyRing | None = getattr(getattr(app, "state", None), "api_keys", None)
    headers = Headers(scope=scope)
    offered = headers.get(API_KEY_HEADER)
    if offered and keyring is not None:
        actor = keyring.lookup(offered)
        if actor is not None:
            return Client(key=f"actor:{actor.role}:{actor.name}", authenticated=True)
    scheme, _, token = headers.get("authorization", "").partition(" ")
    credential = token.strip() if scheme.lower() == "bearer" else offered
    # The web console's session cookie counts as a credential once verified.
    credential = credential or _cookie(headers, CONSOLE_SESSION_COOKIE)
    if credential:
        known = verified_credentials.recall(credential, time.monotonic())
        if known is not None:
            return Client(key=f"principal:{known}", authenticated=True)
    peer = scope.get("client")
    return Client(key=f"ip:{peer[0] if peer else 'unknown'}", authenticated=False)


def _cookie(headers: Headers, name: str) -> str | None:
    # The last of repeated names wins, as Starlette's parser (and so the console) reads it.
    found = None
    for part in headers.get("cookie", "").split(";"):
        key, _, value = part.strip().partition("=")
        if key == name and value:
            found = value
    return found


def _storage_uri(settings: Settings) -> str:
    return "async+" + settings.rate_limit_storage


def _limiter(settings: Settings) -> RateLimiter:
    options: dict[str, float | str | bool] = {}
    if settings.rate_limit_storage.startswith(("redis://", "rediss://")):
        # redis-py's asyncio client; short timeouts, so a Redis that hangs costs a
        # request half a second and then lets it through.
        options = {
            "implementation": "redispy",
            "key_prefix": KEY_PREFIX,
            "socket_timeout": 0.5,
            "socket_connect_timeout": 0.5,
        }
    storage = storage_from_string(_storage_uri(settings), **options)
    assert isinstance(storage, Storage)  # an async+ URI gives an asyncio storage
    if settings.rate_limit_strategy == "sliding-window-counter":
        return SlidingWindowCounterRateLimiter(storage)
    return MovingWindowRateLimiter(storage)


class RateLimits:
    """ASGI middleware: spend the request's budget; 429 when it is spent."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        policy: RatePolicy,
        make_limiter: Callable[[], RateLimiter],
        identify: Callable[[Scope], Client] = identify_client,
    ) -> None:
        self.app = app
        self.policy = policy
        self.make_limiter = make_limiter
        self.identify = identify
        self._limiter: RateLimiter | None = None
        self._failing = False

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope["path"] in UNLIMITED_PATHS
            or scope["path"].startswith(UNLIMITED_PREFIX)
        ):
            await self.app(scope, receive, send)
            return
        client = self.identify(scope)
        rule = self.policy.rule_for(client, scope["method"], route_template(scope))
        verdict = await self._spend(rule, client)
        if verdict is None:  # the storage failed: let it through, unlimited
            await self.app(scope, receive, send)
            return
        allowed, headers, retry_after = verdict
        if not allowed:
            await self._refuse(scope, receive, send, rule, headers, retry_after)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                response_headers = MutableHeaders(scope=message)
                for name, value in headers.items():
                    response_headers[name] = value
            await send(message)

        await self.app(scope, receive, with_headers)

    async def _spend(
        self, rule: RateRule, client: Client
    ) -> tuple[bool, dict[str, str], int] | None:
        if self._limiter is None:  # created on the server's event loop
            self._limiter = self.make_limiter()
        try:
            allowed = await self._limiter.hit(rule.item, rule.name, client.key)
            stats = await self._limiter.get_window_stats(rule.item, rule.name, client.key)
        except Exception as error:  # any storage failure: fail open, loudly, once
            if not self._failing:
                log.warning("rate_limit_storage_failed", error_type=type(error).__name__)
                self._failing = True
            return None
        if self._failing:
            log.info("rate_limit_storage_recovered")
            self._failing = False
        now = time.time()
        return allowed, rate_limit_headers(rule, stats, now), seconds_until(stats.reset_time, now)

    async def _refuse(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        rule: RateRule,
        headers: dict[str, str],
        retry_after: int,
    ) -> None:
        wait = max(1, retry_after)
        log.info("rate_limited", policy=rule.name, path=scope["path"])
        response = problem_response(
            429,
            "Too many requests",
            f"this client has used its {rule.item.amount} requests per "
            f"{rule.window_seconds} s of the {rule.name!r} budget; retry after {wait} s",
            type_=problem_type("RateLimited"),
            instance=scope["path"],
            headers={**headers, "Retry-After": str(wait)},
        )
        await response(scope, receive, send)


_HEADERS_DOC = {
    "RateLimit-Policy": 'The budget: `"name";q=<requests>;w=<window seconds>` '
    "(draft-ietf-httpapi-ratelimit-headers-10).",
    "RateLimit": 'What is left of it: `"name";r=<remaining>;t=<seconds until more>`.',
}


def _document_limits(app: FastAPI) -> None:
    """Declare on every limited operation its 429 and the RateLimit fields of its answers."""

    def declare(document: dict[str, Any]) -> None:
        headers = {
            name: {"description": text, "schema": {"type": "string"}}
            for name, text in _HEADERS_DOC.items()
        }
        for path, item in document.get("paths", {}).items():
            if path in UNLIMITED_PATHS:
                continue
            for operation in item.values():
                responses = operation.setdefault("responses", {})
                refused = copy.deepcopy(problem_responses(429)[429])
                refused["headers"] = {
                    **headers,
                    "Retry-After": {
                        "description": "Seconds to wait.",
                        "schema": {"type": "integer"},
                    },
                }
                responses.setdefault("429", refused)

    amend_openapi(app, declare)


def install_rate_limits(app: FastAPI, settings: Settings) -> None:
    """Limit each client's requests as the settings say (call after the routes are added)."""
    if not settings.rate_limit_enabled:
        return
    policy = RatePolicy.from_settings(settings)
    if policy.routes:
        policy.check_routes(documented_routes(app))
        app.openapi_schema = None  # built again when asked, with any route added later
    app.add_middleware(RateLimits, policy=policy, make_limiter=lambda: _limiter(settings))
    _document_limits(app)

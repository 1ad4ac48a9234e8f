"""The ASGI application: /api/v1, health probes, and the runtime's lifespan."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from anyio import to_thread
from fastapi import FastAPI

from promoflow import __version__
from promoflow.api import health
from promoflow.api.auditing import install_audit_trail
from promoflow.api.auth import Authenticator, KeyRing
from promoflow.api.idempotency import IDEMPOTENCY_KEY, install_idempotency
from promoflow.api.limits import install_request_limits
from promoflow.api.observability import install_observability
from promoflow.api.overload import install_overload_guard, thread_tokens
from promoflow.api.permissions import install_access_policy
from promoflow.api.problems import install_problem_handlers
from promoflow.api.ratelimit import install_rate_limits
from promoflow.api.security_headers import install_security_headers
from promoflow.api.v1 import PREFIX, build_router
from promoflow.config import Settings, get_settings
from promoflow.identity.access import default_policy_path, load_access_policy
from promoflow.identity.startup import token_verifier
from promoflow.kit.logging import get_logger
from promoflow.runtime import start_runtime, stop_runtime
from promoflow.web.console import install_console

log = get_logger(__name__)

TAGS = [
    {"name": "promotions", "description": "Create, submit and follow promotions."},
    {"name": "approvals", "description": "Approval tasks and decisions."},
    {"name": "exceptions", "description": "Exception cases and the actions that resolve them."},
    {"name": "health", "description": "Liveness and readiness probes (no API key)."},
]


def create_app(settings: Settings | None = None, *, manage_runtime: bool = True) -> FastAPI:
    """Build the API; with manage_runtime the lifespan starts and stops DBOS and the database."""
    settings = settings or get_settings()
    # Parsed here so a bad PROMOFLOW_API_KEYS entry stops the server before it listens.
    keyring = KeyRing.parse(settings.api_keys)
    # Refuses development conveniences in production, before the server listens.
    authenticator = Authenticator(keyring, token_verifier(settings))

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        # Off the event loop: DBOS refuses its synchronous registrations (a
        # connection's queue, say) from a thread where a loop is running, and
        # launching blocks on the database for as long as migrations take.
        # Sync handlers run on anyio's threads: as many as request slots (and a
        # margin), so an admitted request never waits for a thread.
        to_thread.current_default_thread_limiter().total_tokens = thread_tokens(settings)
        if manage_runtime:
            await to_thread.run_sync(start_runtime, settings)
        try:
            yield
        finally:
            if manage_runtime:
                await to_thread.run_sync(stop_runtime)

    # The interactive docs and the document describe every route to anyone who asks:
    # served in development and test, off in production unless PROMOFLOW_API_DOCS=true.
    docs = settings.environment != "production" if settings.api_docs is None else settings.api_docs
    app = FastAPI(
        title="promoflow",
        version=__version__,
        summary="Control tower for retail promotion execution and inventory alignment.",
        openapi_tags=TAGS,
        lifespan=lifespan,
        docs_url="/docs" if docs else None,
        redoc_url="/redoc" if docs else None,
        openapi_url="/openapi.json" if docs else None,
    )
    app.state.api_keys = keyring
    app.state.authenticator = authenticator
    app.state.currency = settings.currency  # beside every amount the routes answer
    install_problem_handlers(app)
    install_audit_trail(app)  # innermost: sees every answer the routes and handlers give
    # Outside the audit, inside the request slots and the body limits: it reads a
    # body already bounded and checked, and stores a keyed request's answer while
    # that request still holds its slot. Its claim is made by IDEMPOTENCY_KEY, after
    # authentication, so a refused (401) request never writes a key.
    install_idempotency(app, settings)
    install_overload_guard(app, settings)
    # Outermost: a body is read, sized and parsed before its request takes a slot,
    # so a slow upload never holds one.
    install_request_limits(app, settings)
    app.include_router(build_router(), prefix=PREFIX, dependencies=[IDEMPOTENCY_KEY])
    # Checked against the routes now, so a route without a rule stops the server here.
    install_access_policy(app, load_access_policy(default_policy_path(settings.policy_dir)))
    app.include_router(health.router)
    install_console(app, settings)
    # Outside the body limits and the request slots: a client over its budget is
    # refused before its body is read or a slot is taken (api/ratelimit.py).
    install_rate_limits(app, settings)
    install_security_headers(app, settings)
    # Outermost: every answer, refusals included, has its request id, log line and metrics.
    install_observability(app, settings)
    return app

"""`promoflow serve` less its security layers: the comparator of security_overhead.py only.

    python benchmarks/unsecured_server.py --port 8732   # with the serve process's PROMOFLOW_ env

The app is `promoflow.app.create_app` as `serve` builds it, served by uvicorn
with serve's options, and then, for this process only:
- authentication is off: `current_actor` is overridden to return one fixed
  principal without reading any header (no key lookup, no token check);
- route authorisation is off: every dependency fed the caller (the access
  policy's `enforce_access`, the Idempotency-Key claim, which reads never use)
  returns that principal unchecked, and the audit dependency that names the
  caller does nothing;
- the audit middleware is taken out of the middleware list before the stack is
  built (the app builds it on its first request);
- rate limits are off (`rate_limit_enabled=False`, a setting the app honours).
Request context and metrics, body limits, request slots, the pools and the
runtime (DBOS, the outbox relay) stay exactly as `serve` has them. There is
deliberately no production switch for any of this: it lives here, in a
benchmark, and nothing in `src/` knows of it.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Iterator
from typing import Any

from fastapi import FastAPI, Request
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute

from promoflow.api.auditing import AuditTrail, audit_actor
from promoflow.api.auth import Actor, current_actor
from promoflow.identity.schemas import EVERY_BANNER, AuthMethod, Principal
from promoflow.kit.roles import Role

# Whom every request acts as: the same role and scope as the benchmark's credentials.
FIXED_PRINCIPAL = Principal(
    name="rita.reader",
    role=Role.AUDITOR,
    subject="bench:rita.reader",
    banners=EVERY_BANNER,
    method=AuthMethod.DEV_KEY,
    credential_id="bench-unsecured",
)


async def fixed_actor(request: Request) -> Actor:
    """The caller, unauthenticated: the fixed principal (set where later layers read it)."""
    request.state.principal = FIXED_PRINCIPAL
    return FIXED_PRINCIPAL


async def unchecked_role() -> Actor:
    """A permission dependency that checks nothing."""
    return FIXED_PRINCIPAL


async def no_audit() -> None:
    """The audit dependency, doing nothing (its middleware is gone too)."""


def _dependencies(dependant: Dependant) -> Iterator[Dependant]:
    for sub in dependant.dependencies:
        yield sub
        yield from _dependencies(sub)


def _checks_the_caller(dependant: Dependant) -> bool:
    """A dependency fed the authenticated caller, i.e. an authorisation check."""
    return any(sub.call is current_actor for sub in dependant.dependencies)


def strip_security(app: FastAPI) -> list[str]:
    """Override authentication, authorisation and audit; return what was overridden."""
    overrides: dict[Callable[..., Any], Callable[..., Any]] = {
        current_actor: fixed_actor,
        audit_actor: no_audit,
    }
    for route in app.routes:
        if not isinstance(route, APIRoute):
            continue
        for dependant in _dependencies(route.dependant):
            call = dependant.call
            if call is None or call in overrides:
                continue
            if _checks_the_caller(dependant):
                overrides[call] = unchecked_role
    app.dependency_overrides.update(overrides)
    before = len(app.user_middleware)
    app.user_middleware = [
        m for m in app.user_middleware if getattr(m, "cls", None) is not AuditTrail
    ]
    if len(app.user_middleware) != before - 1:
        raise SystemExit("unsecured server: the audit middleware was not found to take out")
    return sorted({getattr(call, "__qualname__", repr(call)) for call in overrides})


def main() -> None:
    """Serve the stripped app as `promoflow serve` serves the real one."""
    import uvicorn

    from promoflow.app import create_app
    from promoflow.config import get_settings
    from promoflow.kit.logging import configure_logging
    from promoflow.runtime import exit_process

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8732)
    args = parser.parse_args()
    configure_logging()
    settings = get_settings().model_copy(update={"rate_limit_enabled": False})
    app = create_app(settings)
    overridden = strip_security(app)
    print(f"unsecured server: overridden {', '.join(overridden)}; no audit middleware, no limits")
    uvicorn.run(
        app,
        host=args.host,
        port=args.port,
        log_level="info",
        timeout_keep_alive=settings.api_keep_alive_seconds,
    )
    exit_process(0)


if __name__ == "__main__":
    main()

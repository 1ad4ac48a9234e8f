"""The API's part of the audit: each request's context, its refusals, and unrecorded changes.

A pure ASGI middleware opens a `RequestAudit` for every /api/v1 request. Commands
and the unit of work record changes in their own transaction through it; what is
left is recorded here, before the response leaves:
- a refusal (401, 403; later a 404 that hides another banner's object, by setting
  `denied`) in a short transaction of its own;
- a change that committed without a record (a route whose service opens its own
  transactions, e.g. a connection test) right after it, in its own transaction.

An idempotent replay (the stored answer to a repeated Idempotency-Key, marked
`Idempotent-Replayed: true`) is not recorded at all: nothing ran and nothing
changed, and the first request's record (change or refusal) stands for it.
"""

from __future__ import annotations

import json
import re
import uuid

from anyio import to_thread
from fastapi import FastAPI, Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from promoflow.api.auth import CurrentActor
from promoflow.audit import context, trail
from promoflow.audit.schemas import Actor
from promoflow.kit.logging import get_logger

log = get_logger(__name__)

# The API and the web console's pages and actions; not assets, probes, metrics or docs.
UNAUDITED_PREFIXES = ("/static/", "/healthz", "/readyz", "/metrics", "/docs", "/redoc", "/openapi")
DENIED = frozenset({401, 403})
MUTATING = frozenset({"POST", "PUT", "PATCH", "DELETE"})
REPLAYED = b"idempotent-replayed"  # api/idempotency.py marks a stored answer so
REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
_REASON_BYTES = 4096


def _request_id(scope: Scope) -> str:
    # The id the request context middleware gave the request (and the response's
    # X-Request-ID); without it, a caller's (or a proxy's) plain id, or a new one.
    state: dict[str, object] = scope.get("state") or {}
    if isinstance(state.get("request_id"), str):
        return str(state["request_id"])
    for name, value in scope.get("headers", ()):
        if name == b"x-request-id":
            text = str(value.decode("latin-1"))
            if REQUEST_ID.match(text):
                return text
    return str(uuid.uuid4())


def _template(path: str, route_path: str) -> str:
    # Routers are mounted under prefixes and a route knows only its own part
    # (/promotions/{ref}/submit): the prefix is what the request path has before it.
    own = [part for part in route_path.split("/") if part]
    sent = [part for part in path.split("/") if part]
    prefix = sent[: max(len(sent) - len(own), 0)]
    return "/" + "/".join(prefix + own)


def _routed(scope: Scope, holder: context.RequestAudit) -> None:
    route = scope.get("route")
    if route is not None and holder.route is None and getattr(route, "path", None):
        holder.route = _template(holder.path, str(route.path))
    if not holder.path_params:
        holder.path_params = {k: str(v) for k, v in (scope.get("path_params") or {}).items()}


def _reason(body: bytes) -> str:
    try:
        detail = json.loads(body).get("detail", "")
    except (ValueError, AttributeError):
        return ""
    return str(detail)


class AuditTrail:
    """Opens each request's audit context and records what no command recorded."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or str(scope.get("path", "")).startswith(UNAUDITED_PREFIXES):
            await self.app(scope, receive, send)
            return
        holder = context.RequestAudit(_request_id(scope), scope["method"], scope["path"])
        token = context.begin(holder)
        held: list[Message] = []
        status = 0
        replayed = False

        async def hold_or_pass(message: Message) -> None:
            nonlocal status, replayed
            if message["type"] == "http.response.start":
                status = int(message["status"])
                replayed = any(name.lower() == REPLAYED for name, _ in message.get("headers", ()))
            if replayed or not self._must_record(holder, status):
                await self._flush(held, send)
                await send(message)
                return
            held.append(message)
            if message["type"] == "http.response.body" and not message.get("more_body", False):
                await self._record(scope, holder, status, held)
                await self._flush(held, send)

        try:
            await self.app(scope, receive, hold_or_pass)
        finally:
            context.end(token)

    @staticmethod
    def _must_record(holder: context.RequestAudit, status: int) -> bool:
        if status in DENIED or holder.denied:
            return True
        return holder.method in MUTATING and 200 <= status < 300 and not holder.recorded

    @staticmethod
    async def _flush(held: list[Message], send: Send) -> None:
        while held:
            await send(held.pop(0))

    @staticmethod
    async def _record(
        scope: Scope, holder: context.RequestAudit, status: int, held: list[Message]
    ) -> None:
        from promoflow.runtime import get_runtime

        _routed(scope, holder)
        try:
            sessions = get_runtime().sessions
            if status in DENIED or holder.denied:
                body = b"".join(m.get("body", b"") for m in held)[:_REASON_BYTES]
                await to_thread.run_sync(trail.record_denied, sessions, status, _reason(body))
            else:
                await to_thread.run_sync(trail.record_unrecorded, sessions, status)
        except Exception as error:
            # A refusal is still refused and a committed change stays committed; the
            # missing record is logged loudly rather than turned into a 500.
            log.error(
                "audit_record_failed",
                action=holder.action,
                status=status,
                request_id=holder.request_id,
                error_type=type(error).__name__,
            )


async def audit_actor(request: Request, actor: CurrentActor) -> None:
    """Tell the request's audit context who is calling (after the key or token is checked)."""
    holder = context.current()
    if holder is None:
        return
    holder.actor = Actor(
        name=actor.name,
        role=actor.role,
        subject=actor.subject,
        banners=tuple(actor.banners.as_list()),
    )
    _routed(request.scope, holder)
    route = request.scope.get("route")
    holder.success_status = int(getattr(route, "status_code", None) or 200)


def install_audit_trail(app: FastAPI) -> None:
    """Record every /api/v1 refusal and change (see the module docstring)."""
    app.add_middleware(AuditTrail)

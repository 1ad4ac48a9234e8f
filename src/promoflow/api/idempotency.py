"""Idempotency-Key on every POST of /api/v1 (draft-ietf-httpapi-idempotency-key-header-07).

Two halves, because the key belongs to a caller and the caller is known only once
the route's dependencies have authenticated it:
- `IdempotencyKeys`, an ASGI middleware, sees a keyed POST first: it reads the
  body (already bounded by api/limits.py) for the request's fingerprint, and then
  holds the answer until it is stored on the key, or the key released for a 5xx.
- `claim_key`, a dependency every /api/v1 route has, runs right after
  authentication: it parses the key and claims it for this caller in a
  transaction committed before the handler runs. A request refused with 401
  never reaches it, so an anonymous flood writes nothing. A repeat of a finished
  request is answered from the stored answer (`Idempotent-Replayed: true`), a key
  reused for another request is 422, a key whose request is still running 409.

The key is optional: a POST without one runs as it always did.
"""

from __future__ import annotations

import copy
import re
import time
from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated, Any

import http_sf
from anyio import to_thread
from fastapi import Depends, FastAPI, Request
from fastapi.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from promoflow.api import deps
from promoflow.api.auditing import audit_actor
from promoflow.api.auth import CurrentActor
from promoflow.api.limits import replay_body
from promoflow.api.openapi_amend import amend_openapi
from promoflow.api.permissions import enforce_access
from promoflow.api.problems import problem_response, problem_responses, problem_type
from promoflow.config import Settings
from promoflow.idempotency import service
from promoflow.idempotency.schemas import (
    HEADER,
    MAX_KEY_LENGTH,
    Claim,
    IdempotencyKeyInFlight,
    KeyedRequest,
    StoredAnswer,
)
from promoflow.kit.clock import utcnow
from promoflow.kit.db import transaction
from promoflow.kit.errors import InvalidInput
from promoflow.kit.logging import get_logger

log = get_logger(__name__)

KEYED_PREFIX = "/api/v1/"
REPLAYED = "Idempotent-Replayed"
_STATE = "idempotency"
_HEADER_BYTES = HEADER.lower().encode()
# The headers of an answer that a replay must repeat; the rest (request id,
# rate-limit budget) belong to the request that is being answered now.
KEPT_HEADERS = {"location": "Location", "content-type": "Content-Type", "etag": "ETag"}
# Printable ASCII without the space, DQUOTE and backslash: the bare form.
_BARE = re.compile(r"[!#-\[\]-~]+")
# The header as documented: an sf-string of 1-255 characters, or the bare form.
DOCUMENTED_PATTERN = (
    rf'^(?:"(?:[ !#-\[\]-~]|\\["\\]){{1,{MAX_KEY_LENGTH}}}"|[!#-\[\]-~]{{1,{MAX_KEY_LENGTH}}})$'
)
PURGE_EVERY_SECONDS = 300.0


@dataclass
class PendingKey:
    """What the middleware knows of a keyed request, shared with the dependency."""

    values: list[str]
    fingerprint: str
    keep: timedelta
    retry_after: int
    claim: Claim | None = None


class ReplayAnswer(Exception):
    """Raised by the dependency to answer with the stored answer of the key's first request."""

    def __init__(self, answer: StoredAnswer) -> None:
        super().__init__("idempotent replay")
        self.answer = answer


def parse_key(values: list[str]) -> str:
    """The key of the Idempotency-Key header: a Structured Field String, or a bare token.

    http_sf parses the quoted form (RFC 9651 section 4.2.5); the bare form is
    accepted for clients that do not quote, as printable ASCII without spaces.
    """
    if len(values) != 1:
        raise InvalidInput(HEADER, ", ".join(values), "send the header once, with one key")
    raw = values[0]
    key = _quoted(raw) if raw.startswith('"') else raw if _BARE.fullmatch(raw) or not raw else None
    if key is None:
        raise InvalidInput(HEADER, raw, _FORM)
    if not key:
        raise InvalidInput(HEADER, raw, "is empty; send a unique key such as a UUID")
    if len(key) > MAX_KEY_LENGTH:
        raise InvalidInput(HEADER, raw, f"is longer than {MAX_KEY_LENGTH} characters")
    return key


def _quoted(raw: str) -> str | None:
    """The text of an sf-string without parameters (none is defined), else None."""
    try:
        parsed = http_sf.parse(raw.encode("latin-1"), tltype="item")
    except (http_sf.StructuredFieldError, UnicodeEncodeError):
        return None
    if not isinstance(parsed, tuple) or parsed[1] or not isinstance(parsed[0], str):
        return None
    return parsed[0]


_FORM = (
    'must be a quoted string of printable ASCII, e.g. "8e03978e-40d5-43e8-bc93-6894a57f9324" '
    "(or the same text unquoted, without spaces)"
)


def claim_key(
    request: Request,
    actor: CurrentActor,
    _audited: Annotated[None, Depends(audit_actor)],
    _allowed: Annotated[None, Depends(enforce_access)],
) -> None:
    """Claim the request's Idempotency-Key for its caller, or answer from the key's first request.

    A dependency of every /api/v1 route; it does nothing for a request without a
    key. It depends on the authentication and the access policy, so it runs only for
    a known caller the policy lets call the route: a refused request claims nothing.
    """
    pending: PendingKey | None = getattr(request.state, _STATE, None)
    if pending is None:
        return
    keyed = KeyedRequest(
        caller=service.caller_namespace(actor.method.value, actor.subject),
        key=parse_key(pending.values),
        fingerprint=pending.fingerprint,
    )
    with transaction(deps.command_sessions()) as session:
        outcome = service.claim(
            session, keyed, now=utcnow(), keep=pending.keep, retry_after=pending.retry_after
        )
    if isinstance(outcome, StoredAnswer):
        raise ReplayAnswer(outcome)
    pending.claim = outcome


IDEMPOTENCY_KEY = Depends(claim_key)


class IdempotencyKeys:
    """ASGI middleware: fingerprint keyed POSTs, then keep each claimed request's answer."""

    def __init__(self, app: ASGIApp, *, keep: timedelta, retry_after: int) -> None:
        self.app = app
        self.keep = keep
        self.retry_after = retry_after
        self._purged_at = 0.0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        values = _keyed(scope)
        if values is None:
            await self.app(scope, receive, send)
            return
        body = await _read(receive)
        pending = PendingKey(
            values=values,
            fingerprint=service.fingerprint(scope["method"], _target(scope), body),
            keep=self.keep,
            retry_after=self.retry_after,
        )
        scope.setdefault("state", {})[_STATE] = pending
        held: list[Message] = []

        async def hold(message: Message) -> None:
            if pending.claim is None:  # nothing claimed: a replay, a refusal, no such route
                await send(message)
                return
            held.append(message)
            if message["type"] == "http.response.body" and not message.get("more_body", False):
                await self._settle(pending.claim, held)
                pending.claim = None
                while held:
                    await send(held.pop(0))

        try:
            await self.app(scope, replay_body(body, receive), hold)
        except Exception:
            # The handler failed (a 500 is rendered further out): the client may retry.
            if pending.claim is not None:
                await to_thread.run_sync(_release, pending.claim)
            raise
        await self._purge_when_due()

    async def _settle(self, claim: Claim, held: list[Message]) -> None:
        start = held[0]
        status = int(start["status"])
        if status >= 500:
            await to_thread.run_sync(_release, claim)
            return
        headers = {
            KEPT_HEADERS[name.decode("latin-1").lower()]: value.decode("latin-1")
            for name, value in start.get("headers", ())
            if name.decode("latin-1").lower() in KEPT_HEADERS
        }
        body = b"".join(m.get("body", b"") for m in held if m["type"] == "http.response.body")
        answer = StoredAnswer(status=status, headers=headers, body=body)
        await to_thread.run_sync(_remember, claim, answer)

    async def _purge_when_due(self) -> None:
        now = time.monotonic()
        if now - self._purged_at < PURGE_EVERY_SECONDS:
            return
        self._purged_at = now
        await to_thread.run_sync(_purge)


def _keyed(scope: Scope) -> list[str] | None:
    """The Idempotency-Key values of a POST under /api/v1, or None when it is not keyed."""
    if scope["type"] != "http" or scope.get("method") != "POST":
        return None
    if not str(scope.get("path", "")).startswith(KEYED_PREFIX):
        return None
    values = [v.decode("latin-1") for k, v in scope.get("headers", ()) if k == _HEADER_BYTES]
    return values or None


def _target(scope: Scope) -> bytes:
    """The path and query as the client sent them (the server's raw bytes)."""
    path = scope.get("raw_path") or str(scope["path"]).encode("utf-8", "surrogateescape")
    query = scope.get("query_string") or b""
    return bytes(path) + (b"?" + bytes(query) if query else b"")


async def _read(receive: Receive) -> bytes:
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def _remember(claim: Claim, answer: StoredAnswer) -> None:
    try:
        with transaction(deps.command_sessions()) as session:
            kept = service.remember(session, claim, answer, now=utcnow())
    except Exception as error:
        # The request's change stands; its key stays in flight (409) until it
        # expires rather than being released, which could let a retry run it twice.
        log.error(
            "idempotency_answer_not_kept", status=answer.status, error_type=type(error).__name__
        )
        return
    if not kept:
        log.warning("idempotency_claim_gone", status=answer.status)


def _release(claim: Claim) -> None:
    try:
        with transaction(deps.command_sessions()) as session:
            service.release(session, claim)
    except Exception as error:
        log.error("idempotency_key_not_released", error_type=type(error).__name__)


def _purge() -> None:
    try:
        with transaction(deps.command_sessions()) as session:
            purged = service.purge_expired(session, now=utcnow())
    except Exception as error:
        log.warning("idempotency_purge_failed", error_type=type(error).__name__)
        return
    if purged:
        log.info("idempotency_keys_purged", count=purged)


async def _replayed(_request: Request, error: Exception) -> Response:
    assert isinstance(error, ReplayAnswer)
    answer = error.answer
    headers = {**answer.headers, REPLAYED: "true"}
    return Response(answer.body, status_code=answer.status, headers=headers)


async def _in_flight(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, IdempotencyKeyInFlight)
    return problem_response(
        409,
        error.title,
        error.message,
        type_=problem_type(type(error).__name__),
        instance=request.url.path,
        headers={"Retry-After": str(error.retry_after)},
    )


_IN_FLIGHT_DOC = f" Or: a request with this {HEADER} is still being processed (see Retry-After)."


def _header_parameter(hours: int) -> dict[str, Any]:
    return {
        "name": HEADER,
        "in": "header",
        "required": False,
        "description": (
            "Optional. A unique key for this request (a UUID, quoted as a Structured Field "
            'String: `"8e03978e-40d5-43e8-bc93-6894a57f9324"`; unquoted is accepted too). '
            "The same key with the same request returns the first answer, with "
            f"`{REPLAYED}: true`, and changes nothing; the same key with another request "
            f"is 422; while the first is still running, 409 with Retry-After. Keys are "
            f"kept for {hours} hours per caller; a server error (5xx) is not kept."
        ),
        "schema": {"type": "string", "pattern": DOCUMENTED_PATTERN},
    }


def _document(app: FastAPI, hours: int) -> None:
    """Declare the header, its 409 and the replay marker on every POST of /api/v1."""

    def declare(document: dict[str, Any]) -> None:
        for path, item in document.get("paths", {}).items():
            operation = item.get("post")
            if not path.startswith(KEYED_PREFIX) or operation is None:
                continue
            operation.setdefault("parameters", []).append(_header_parameter(hours))
            responses = operation.setdefault("responses", {})
            conflict = responses.setdefault("409", copy.deepcopy(problem_responses(409)[409]))
            conflict["description"] += _IN_FLIGHT_DOC
            for status, response in responses.items():
                if status.startswith("2"):
                    response.setdefault("headers", {})[REPLAYED] = {
                        "description": f"`true` when this is the stored answer to an earlier "
                        f"request with the same {HEADER}.",
                        "schema": {"type": "string", "enum": ["true"]},
                    }

    amend_openapi(app, declare)


def install_idempotency(app: FastAPI, settings: Settings) -> None:
    """Honour Idempotency-Key on /api/v1 POSTs (the routes need the IDEMPOTENCY_KEY dependency)."""
    app.add_middleware(
        IdempotencyKeys,
        keep=timedelta(hours=settings.idempotency_key_hours),
        retry_after=settings.api_retry_after_seconds,
    )
    app.add_exception_handler(ReplayAnswer, _replayed)
    app.add_exception_handler(IdempotencyKeyInFlight, _in_flight)
    _document(app, settings.idempotency_key_hours)

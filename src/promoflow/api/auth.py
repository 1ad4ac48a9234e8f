"""Who is calling: a bearer token, an API key record, or (in development) a listed key.

The credential decides the caller; the body never does. A refusal carries its
reason (`expired`, `signature`, `revoked_key`, ...) in `Unauthenticated.context`
for the log and the audit trail, never in the answer. `Actor` is the
`identity.schemas.Principal`: routes keep reading `name` and `role`, and later
layers (banner scoping, audit) read its subject, banners and method from
`request.state.principal`.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from typing import Annotated

from fastapi import Depends, Request, Security
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.exc import SQLAlchemyError

from promoflow.api import deps
from promoflow.api.problems import Unauthenticated
from promoflow.audit import context as audit_context
from promoflow.identity import service as identity
from promoflow.identity.schemas import (
    EVERY_BANNER,
    AuthMethod,
    CredentialRefused,
    Principal,
)
from promoflow.identity.tokens import TokenVerifier
from promoflow.kit.clock import utcnow
from promoflow.kit.db import transaction
from promoflow.kit.errors import Forbidden
from promoflow.kit.logging import get_logger
from promoflow.kit.roles import ROLES, Role

log = get_logger(__name__)

API_KEY_HEADER = "X-API-Key"
# The web console's session cookie (web/auth.py); named here so the rate limiter
# can key a signed-in browser by its person, as it keys an API key.
CONSOLE_SESSION_COOKIE = "pf_session"
api_key_header = APIKeyHeader(
    name=API_KEY_HEADER,
    auto_error=False,
    description="An API key from `promoflow auth keys create` (in development also a key of "
    "PROMOFLOW_API_KEYS).",
)
bearer_token = HTTPBearer(
    auto_error=False,
    bearerFormat="JWT",
    description="An access token of the configured OIDC issuer (or, in development, "
    "of `promoflow auth token`).",
)
# RFC 6750 section 3: a refused token is answered with error="invalid_token" and no more.
INVALID_TOKEN = 'Bearer error="invalid_token"'  # noqa: S105 (a challenge, not a secret)
CHALLENGE = f'Bearer, APIKey header="{API_KEY_HEADER}"'

# The acting identity. Kept as a name so routes and permissions read as before.
Actor = Principal


class KeyRing:
    """The PROMOFLOW_API_KEYS list (a development convenience) and who each key stands for."""

    def __init__(self, entries: list[tuple[bytes, Actor]]) -> None:
        self._entries = entries

    @classmethod
    def parse(cls, spec: str) -> KeyRing:
        """Parse `key:actor:role,...`; raise ValueError naming the entry and what to fix."""
        entries: list[tuple[bytes, Actor]] = []
        seen: set[str] = set()
        for position, raw in enumerate(spec.split(","), start=1):
            if not raw.strip():
                continue
            parts = [part.strip() for part in raw.split(":")]
            where = f"PROMOFLOW_API_KEYS entry {position}"
            if len(parts) != 3 or not all(parts):
                # Never echo the entry: it holds a secret.
                raise ValueError(f"{where}: expected 'key:actor:role' with three non-empty parts")
            key, actor, role = parts
            if role not in ROLES:
                raise ValueError(f"{where}: role {role!r} is not one of {', '.join(ROLES)}")
            if key in seen:
                raise ValueError(f"{where}: the same key is listed twice")
            seen.add(key)
            # The list predates banners: its keys act for every banner. A fingerprint,
            # not the key, names the credential in logs.
            fingerprint = "env-" + hashlib.sha256(key.encode()).hexdigest()[:8]
            principal = Principal(
                name=actor,
                role=Role(role),
                subject=f"env:{actor}",
                banners=EVERY_BANNER,
                method=AuthMethod.DEV_KEY,
                credential_id=fingerprint,
            )
            entries.append((key.encode(), principal))
        return cls(entries)

    def __len__(self) -> int:
        return len(self._entries)

    def lookup(self, key: str) -> Actor | None:
        """The actor for `key`, comparing in constant time against every entry."""
        offered = key.encode()
        found: Actor | None = None
        for stored, actor in self._entries:
            if hmac.compare_digest(stored, offered):
                found = actor
        return found


class Authenticator:
    """Everything a request is checked against, built once when the app is."""

    def __init__(self, keyring: KeyRing, tokens: TokenVerifier) -> None:
        self.keyring = keyring
        self.tokens = tokens

    def bearer(self, token: str) -> Principal:
        try:
            return self.tokens.verify(token)
        except CredentialRefused as refused:
            _log_refusal("bearer", refused.reason)
            raise Unauthenticated(
                refused.message, challenge=INVALID_TOKEN, reason=refused.reason
            ) from None

    def api_key(self, key: str) -> Principal:
        if identity.looks_like_record_key(key):
            return _record_key(key)
        actor = self.keyring.lookup(key)
        if actor is None:
            _log_refusal(AuthMethod.DEV_KEY.value, "unknown_key")
            raise Unauthenticated(
                f"unknown API key in the {API_KEY_HEADER} header", reason="unknown_key"
            )
        return actor


def _record_key(key: str) -> Principal:
    now = utcnow()
    try:
        with deps.read_sessions()() as session:
            checked = identity.check_api_key(session, key, now=now)
    except CredentialRefused as refused:
        _log_refusal(AuthMethod.API_KEY.value, refused.reason)
        raise Unauthenticated(refused.message, reason=refused.reason) from None
    if checked.record_use:
        try:
            with transaction(deps.command_sessions()) as session:
                identity.record_key_use(session, checked.principal.credential_id or "", now=now)
        except SQLAlchemyError as error:
            # The call is authenticated either way; a busy database only delays the record.
            log.warning("api_key_use_not_recorded", error_type=type(error).__name__)
    return checked.principal


def _log_refusal(credential: str, reason: str) -> None:
    # The reason is for operators and the audit trail; the client hears only "not valid".
    log.info("credential_refused", credential=credential, reason=reason)
    holder = audit_context.current()
    if holder is not None:
        holder.denied_reason = f"{credential} refused: {reason}"


def current_actor(
    request: Request,
    key: Annotated[str | None, Security(api_key_header)] = None,
    bearer: Annotated[HTTPAuthorizationCredentials | None, Security(bearer_token)] = None,
) -> Actor:
    """The caller behind the request's bearer token or X-API-Key; 401 when neither proves one."""
    authenticator: Authenticator = request.app.state.authenticator
    if bearer is not None and key:
        raise Unauthenticated(
            f"send either a bearer token or an {API_KEY_HEADER} header, not both",
            challenge=CHALLENGE,
        )
    if bearer is not None:
        principal = authenticator.bearer(bearer.credentials)
    elif key:
        principal = authenticator.api_key(key)
    else:
        raise Unauthenticated(
            f"missing credentials: send an API key in the {API_KEY_HEADER} header or "
            "a bearer token in Authorization",
            challenge=CHALLENGE,
        )
    request.state.principal = principal
    offered = bearer.credentials if bearer is not None else key
    if offered:
        verified_credentials.remember(offered, principal, time.monotonic())
    return principal


CurrentActor = Annotated[Actor, Depends(current_actor)]


class VerifiedCredentials:
    """Credentials this process verified recently, by digest, for the rate limiter.

    The limiter runs before authentication (a client over its budget must cost
    nothing), yet must key an API-key record or a bearer token by its principal,
    not by IP. Verifying there would cost a database read or a signature check per
    request; instead the authenticator remembers each credential it accepted for a
    minute. A credential never accepted (forged, revoked, made up) is not here and
    so spends its IP's anonymous budget. Only digests are kept, never a credential.
    """

    def __init__(self, seconds: float = 60.0, most: int = 10_000) -> None:
        self._seconds = seconds
        self._most = most
        self._known: dict[bytes, tuple[str, float]] = {}

    @staticmethod
    def _digest(credential: str) -> bytes:
        return hashlib.sha256(credential.encode()).digest()

    def remember(self, credential: str, principal: Principal, now: float) -> None:
        if len(self._known) >= self._most:
            self._known.clear()  # bounded: a flood of distinct keys only costs a re-check
        key = f"{principal.method.value}:{principal.subject}"
        self._known[self._digest(credential)] = (key, now + self._seconds)

    def recall(self, credential: str, now: float) -> str | None:
        found = self._known.get(self._digest(credential))
        if found is None or found[1] < now:
            return None
        return found[0]


verified_credentials = VerifiedCredentials()


def require_role(actor: Actor, allowed: frozenset[str], action: str) -> None:
    """Raise Forbidden unless the actor's role may perform `action`."""
    if actor.role not in allowed:
        raise Forbidden(
            f"role '{actor.role}' may not {action}; allowed roles: {', '.join(sorted(allowed))}",
            role=actor.role.value,
        )

"""Console sessions: a browser's sign-in, bound to the credential it was made with.

A person signs in to the web console with what the API accepts (an API key, an
access token of the configured issuer) or, in development only, by picking a
role. The browser then holds a random token in an HttpOnly cookie; the database
holds its SHA-256, who it stands for and until when. Each request re-reads the
row, so signing out (or a revoked API key) ends the session at once, which a
signed cookie alone could not do.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from promoflow.identity import repository
from promoflow.identity.models import ConsoleSession
from promoflow.identity.schemas import AuthMethod, BannerScope, Principal
from promoflow.kit.roles import Role

TOKEN_BYTES = 32


@dataclass(frozen=True)
class OpenedSession:
    """What the browser receives once: the cookie's token and the form token."""

    token: str
    csrf_token: str
    expires_at: datetime


@dataclass(frozen=True)
class SignedIn:
    """A live console session: the principal it stands for and its form token."""

    principal: Principal
    csrf_token: str
    expires_at: datetime


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def open_session(
    session: Session, principal: Principal, *, now: datetime, lifetime: timedelta
) -> OpenedSession:
    """Record a sign-in and hand back the token for the cookie (never stored)."""
    token = secrets.token_urlsafe(TOKEN_BYTES)
    csrf = secrets.token_urlsafe(TOKEN_BYTES)
    row = ConsoleSession(
        token_sha256=_digest(token),
        csrf_token=csrf,
        subject=principal.subject,
        name=principal.name,
        role=principal.role.value,
        banners=principal.banners.as_list(),
        method=principal.method.value,
        credential_id=principal.credential_id,
        created_at=now,
        expires_at=now + lifetime,
    )
    repository.add_console_session(session, row)
    return OpenedSession(token=token, csrf_token=csrf, expires_at=row.expires_at)


def resolve_session(session: Session, token: str, *, now: datetime) -> SignedIn | None:
    """The live session of a cookie's token; None when unknown, ended, expired or revoked."""
    if not token or len(token) > 128:
        return None
    row = repository.console_session_by_token(session, _digest(token))
    if row is None or row.ended_at is not None or row.expires_at <= now:
        return None
    if row.method == AuthMethod.API_KEY.value and not _key_still_valid(
        session, row.credential_id, now
    ):
        return None
    principal = Principal(
        name=row.name,
        role=Role(row.role),
        subject=row.subject,
        banners=BannerScope.of(list(row.banners)),
        method=AuthMethod(row.method),
        credential_id=row.credential_id,
    )
    return SignedIn(principal=principal, csrf_token=row.csrf_token, expires_at=row.expires_at)


def _key_still_valid(session: Session, key_id: str | None, now: datetime) -> bool:
    key = repository.get_key(session, key_id) if key_id else None
    return key is not None and key.revoked_at is None and key.expires_at > now


def end_session(session: Session, token: str, *, now: datetime) -> bool:
    """Sign a browser out; True when a live session ended."""
    return repository.end_console_sessions(session, now, token_sha256=_digest(token)) > 0

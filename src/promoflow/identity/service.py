"""API keys for integration clients: created, shown once, checked, revoked.

A key reads `pfk_<key id>_<secret>`: the prefix makes a leaked key recognisable
to secret scanners, the key id (public, 12 hex characters) finds the record, and
the secret is 256 random bits (`secrets.token_urlsafe(32)`). Only the SHA-256 of
the whole key is stored. A slow password hash (argon2, bcrypt) protects secrets
people choose, which are guessable; a 256-bit random secret cannot be guessed
whatever the hash costs, while argon2's tens of milliseconds and megabytes per
request would be paid on every API call.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from promoflow.identity import repository
from promoflow.identity.claims import MAX_BANNER, MAX_NAME
from promoflow.identity.models import ApiKey
from promoflow.identity.schemas import (
    ALL_BANNERS,
    ApiKeyView,
    AuthMethod,
    BannerScope,
    CredentialRefused,
    IssuedApiKey,
    Principal,
)
from promoflow.kit.errors import Conflict, InvalidInput, NotFound
from promoflow.kit.roles import ROLES, Role

KEY_PREFIX = "pfk_"
KEY_ID_CHARS = 12
MAX_DAYS = 730
# A key's last use is written at most this often, so a busy client does not turn
# every read into a write (on SQLite, a turn at the one write lock).
LAST_USED_RESOLUTION = timedelta(minutes=1)
_KEY = re.compile(rf"^{KEY_PREFIX}(?P<key_id>[0-9a-f]{{{KEY_ID_CHARS}}})_[A-Za-z0-9_-]{{43}}$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_REFUSED = "the API key in the X-API-Key header is not accepted (unknown, expired or revoked)"


@dataclass(frozen=True)
class KeyCheck:
    """An accepted key's principal, and whether its last use is due to be written."""

    principal: Principal
    record_use: bool


def looks_like_record_key(presented: str) -> bool:
    """True for a key in the record format (else it may be a development list key)."""
    return presented.startswith(KEY_PREFIX)


def _digest(presented: str) -> str:
    return hashlib.sha256(presented.encode("utf-8", "replace")).hexdigest()


def _text(field: str, value: str, limit: int) -> str:
    if not value.strip() or len(value) > limit or _CONTROL.search(value):
        raise InvalidInput(field, value, f"give 1 to {limit} printable characters")
    return value.strip()


def banner_scope(banners: list[str]) -> BannerScope:
    """The scope `--banner` options name (at least one; `*` for every banner)."""
    if not banners:
        raise InvalidInput(
            "banner", banners, f"give at least one --banner, or {ALL_BANNERS!r} for every banner"
        )
    return BannerScope.of([_text("banner", banner, MAX_BANNER) for banner in banners])


def create_api_key(
    session: Session,
    *,
    name: str,
    role: str,
    banners: list[str],
    days: int,
    created_by: str,
    now: datetime,
) -> IssuedApiKey:
    """A new key scoped to `role` and `banners`, expiring after `days`; the key is in the
    result and nowhere else."""
    if role not in ROLES:
        raise InvalidInput("role", role, f"choose one of {', '.join(ROLES)}")
    if not 1 <= days <= MAX_DAYS:
        raise InvalidInput("days", days, f"a key lives 1 to {MAX_DAYS} days; create a new one then")
    scope = banner_scope(banners)
    key_id = secrets.token_hex(KEY_ID_CHARS // 2)
    secret = f"{KEY_PREFIX}{key_id}_{secrets.token_urlsafe(32)}"
    row = repository.add_key(
        session,
        ApiKey(
            key_id=key_id,
            secret_sha256=_digest(secret),
            name=_text("name", name, MAX_NAME),
            role=Role(role).value,
            banners=scope.as_list(),
            created_by=_text("by", created_by, MAX_NAME),
            created_at=now,
            expires_at=now + timedelta(days=days),
        ),
    )
    return IssuedApiKey(secret=secret, key=_view(row))


def list_api_keys(session: Session, *, include_revoked: bool = True) -> list[ApiKeyView]:
    """Every key, oldest first, without the key itself (it is not stored)."""
    return [_view(row) for row in repository.list_keys(session, include_revoked=include_revoked)]


def revoke_api_key(session: Session, key_id: str, *, by: str, now: datetime) -> ApiKeyView:
    """Revoke a key at once (every process checks the record on each call)."""
    row = repository.get_key(session, key_id, for_update=True)
    if row is None:
        raise NotFound(f"no API key with id {key_id!r}; `promoflow auth keys list` shows them")
    if row.revoked_at is not None:
        raise Conflict(
            f"API key {key_id} was already revoked by {row.revoked_by} at "
            f"{row.revoked_at.isoformat(timespec='seconds')}"
        )
    row.revoked_at = now
    row.revoked_by = _text("by", by, MAX_NAME)
    session.flush()
    return _view(row)


def check_api_key(session: Session, presented: str, *, now: datetime) -> KeyCheck:
    """The principal of a valid, unexpired, unrevoked key; CredentialRefused otherwise."""
    digest = _digest(presented)  # computed whatever the key, so timing tells nothing
    match = _KEY.match(presented)
    row = repository.get_key(session, match["key_id"]) if match else None
    if row is None or not hmac.compare_digest(row.secret_sha256, digest):
        raise CredentialRefused(_REFUSED, reason="unknown_key")
    if row.revoked_at is not None:
        raise CredentialRefused(_REFUSED, reason="revoked_key")
    if row.expires_at <= now:
        raise CredentialRefused(_REFUSED, reason="expired_key")
    view = _view(row)
    principal = Principal(
        name=view.name,
        role=view.role,
        subject=f"key:{view.key_id}",
        banners=view.banners,
        method=AuthMethod.API_KEY,
        credential_id=view.key_id,
    )
    due = row.last_used_at is None or now - row.last_used_at >= LAST_USED_RESOLUTION
    return KeyCheck(principal=principal, record_use=due)


def record_key_use(session: Session, key_id: str, *, now: datetime) -> None:
    """Write a key's last use (callers do it only when `KeyCheck.record_use` says so)."""
    repository.touch_key(session, key_id, now)


def _view(row: ApiKey) -> ApiKeyView:
    return ApiKeyView(
        key_id=row.key_id,
        name=row.name,
        role=Role(row.role),
        banners=BannerScope.of(list(row.banners)),
        created_by=row.created_by,
        created_at=row.created_at,
        expires_at=row.expires_at,
        revoked_at=row.revoked_at,
        revoked_by=row.revoked_by,
        last_used_at=row.last_used_at,
    )

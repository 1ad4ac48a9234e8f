"""What crosses the identity boundary: the principal, its banners, how it signed in."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from promoflow.kit.errors import Forbidden, PromoflowError
from promoflow.kit.roles import Role

# In a banner claim, an API key's scope or `--banner`: every banner of the retailer.
ALL_BANNERS = "*"


class AuthMethod(StrEnum):
    """How a caller proved who it is."""

    OIDC = "oidc"  # a bearer token of the configured OAuth2/OIDC issuer
    # a bearer token of the built-in development issuer
    DEV_TOKEN = "dev_token"  # noqa: S105 (a method, not a secret)
    API_KEY = "api_key"  # an API key record (`promoflow auth keys create`)
    DEV_KEY = "dev_key"  # a key of the PROMOFLOW_API_KEYS list (development only)


@dataclass(frozen=True)
class BannerScope:
    """The banners (business units) a caller may act for.

    "All banners" is spelled `every=True` (from `*` in a claim or a key's scope),
    never as an empty set: an empty scope means none, so a token that forgot the
    claim sees nothing once banner scoping is enforced, rather than everything.
    """

    names: frozenset[str] = frozenset()
    every: bool = False

    @classmethod
    def of(cls, banners: list[str] | tuple[str, ...]) -> BannerScope:
        """The scope named by a list of banners, where `*` stands for all of them."""
        if ALL_BANNERS in banners:
            return cls(every=True)
        return cls(names=frozenset(banners))

    def allows(self, banner: str) -> bool:
        """True when the caller may act for `banner`."""
        return self.every or banner in self.names

    def as_list(self) -> list[str]:
        """The scope as stored and shown: `["*"]` or the sorted names."""
        return [ALL_BANNERS] if self.every else sorted(self.names)


EVERY_BANNER = BannerScope(every=True)


@dataclass(frozen=True)
class Principal:
    """The acting identity of a request.

    `name` and `role` are what the existing services record (requester, approver);
    `subject` is stable across renames (the token's `sub`, `key:<id>` for an API
    key, `dev:<user>` for the development issuer) for the audit trail;
    `credential_id` names the key or token (API key id, token `jti`) without
    revealing it.
    """

    name: str
    role: Role
    subject: str
    banners: BannerScope
    method: AuthMethod
    credential_id: str | None = None


@dataclass(frozen=True)
class ClaimMapping:
    """Which claims of a token hold the subject, name, role and banners (dotted paths)."""

    subject: str = "sub"
    name: str = "name"
    role: str = "promoflow_role"
    banners: str = "promoflow_banners"


@dataclass(frozen=True)
class ApiKeyView:
    """An API key as listed: everything but the key itself (which is never stored)."""

    key_id: str
    name: str
    role: Role
    banners: BannerScope
    created_by: str
    created_at: datetime
    expires_at: datetime
    revoked_at: datetime | None
    revoked_by: str | None
    last_used_at: datetime | None

    def status(self, now: datetime) -> str:
        """active, expired or revoked."""
        if self.revoked_at is not None:
            return "revoked"
        return "expired" if self.expires_at <= now else "active"


@dataclass(frozen=True)
class IssuedApiKey:
    """A key just created: `secret` is the key, shown once and never again."""

    secret: str
    key: ApiKeyView


class CredentialRefused(PromoflowError):
    """A token or key that does not prove an identity.

    The message is what a client is told and says nothing an attacker could use;
    `reason` (expired, signature, audience, ...) is for the server's log and audit.
    """

    status = 401
    title = "Unauthenticated"

    def __init__(self, message: str, *, reason: str) -> None:
        super().__init__(message, reason=reason)
        self.reason = reason


class ClaimRefused(Forbidden):
    """A verified token whose role or banner claim promoflow cannot use; names the claim."""

    def __init__(self, claim: str, message: str) -> None:
        super().__init__(f"claim {claim!r}: {message}", claim=claim)
        self.claim = claim


class IdentityMisconfigured(PromoflowError):
    """Settings the server refuses to start with; names the setting and what to do."""

    status = 500
    title = "Server misconfigured"

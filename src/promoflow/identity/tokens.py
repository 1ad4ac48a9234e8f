"""Bearer tokens: verified against the issuer that signed them, then read as a Principal.

The algorithm list is fixed (RS256, ES256) and never taken from the token, and
each key is used only with its own algorithm: `alg: none`, HS256 signed with a
public key, or RS256 presented for an EC key all fail before any claim is read.
Issuer, audience, expiry and not-before are checked with a clock skew allowance;
`exp`, `iss`, `aud` and `sub` are required.

Every refusal tells the client the same thing; the reason goes to the log (and,
through `CredentialRefused.reason`, to the audit trail).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import jwt
from jwt import exceptions as jwt_errors

from promoflow.identity.claims import principal_from_claims
from promoflow.identity.jwks import ALGORITHMS, KeySource
from promoflow.identity.schemas import AuthMethod, ClaimMapping, CredentialRefused, Principal

# A JWT larger than this is not one an issuer sent: refused before it is parsed.
MAX_TOKEN_CHARS = 16_384
REQUIRED_CLAIMS = ["exp", "iss", "aud", "sub"]
_REFUSED = "the bearer token is not valid"

_REASONS: tuple[tuple[type[Exception], str], ...] = (
    (jwt_errors.ExpiredSignatureError, "expired"),
    (jwt_errors.ImmatureSignatureError, "not_yet_valid"),
    (jwt_errors.InvalidAudienceError, "audience"),
    (jwt_errors.InvalidIssuerError, "issuer"),
    (jwt_errors.InvalidSignatureError, "signature"),
    (jwt_errors.MissingRequiredClaimError, "missing_claim"),
    (jwt_errors.InvalidAlgorithmError, "algorithm"),
)


@dataclass(frozen=True)
class TrustedIssuer:
    """An issuer whose tokens the server accepts, and how to read them."""

    issuer: str
    audience: str
    keys: KeySource
    claims: ClaimMapping
    method: AuthMethod
    leeway_seconds: float


def refused(reason: str) -> CredentialRefused:
    """The one refusal a client sees, carrying the reason for the log."""
    return CredentialRefused(_REFUSED, reason=reason)


class TokenVerifier:
    """Verifies bearer tokens of the trusted issuers (none: every token is refused)."""

    def __init__(self, issuers: list[TrustedIssuer]) -> None:
        self._issuers = {trusted.issuer: trusted for trusted in issuers}

    @property
    def issuers(self) -> tuple[str, ...]:
        return tuple(self._issuers)

    def verify(self, token: str) -> Principal:
        """The principal a valid token stands for; CredentialRefused (401) otherwise."""
        if len(token) > MAX_TOKEN_CHARS:
            raise refused("too_large")
        header, unverified = _peek(token)
        algorithm = header.get("alg")
        if algorithm not in ALGORITHMS:
            raise refused("algorithm")
        # Which issuer to check against is read before the signature is: it only picks
        # the keys, and `jwt.decode` then insists on that same issuer.
        trusted = self._issuers.get(str(unverified.get("iss")))
        if trusted is None:
            raise refused("issuer")
        kid = header.get("kid")
        key = trusted.keys.key_for(kid if isinstance(kid, str) else None)
        if key is None:
            raise refused("unknown_key")
        if key.algorithm_name != algorithm:
            raise refused("algorithm")
        claims = _decode(token, key.key, algorithm, trusted)
        return principal_from_claims(claims, trusted.claims, trusted.method)


def _peek(token: str) -> tuple[Mapping[str, Any], Mapping[str, Any]]:
    try:
        header = jwt.get_unverified_header(token)
        payload = jwt.decode(token, options={"verify_signature": False})
    except jwt_errors.PyJWTError:
        raise refused("malformed") from None
    return header, payload


def _decode(token: str, key: Any, algorithm: str, trusted: TrustedIssuer) -> dict[str, Any]:
    try:
        return jwt.decode(
            token,
            key,
            algorithms=[algorithm],
            audience=trusted.audience,
            issuer=trusted.issuer,
            leeway=trusted.leeway_seconds,
            options={"require": REQUIRED_CLAIMS},
        )
    except jwt_errors.PyJWTError as error:
        reason = next((name for kind, name in _REASONS if isinstance(error, kind)), "invalid")
        raise refused(reason) from None

"""What the server trusts, decided once from the settings, and what it refuses to start with.

Production never takes a development convenience silently: the PROMOFLOW_API_KEYS
list is refused there, and so is the development issuer unless
`dev_issuer_outside_development` says the operator means it.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from promoflow.config import Settings
from promoflow.identity import dev_issuer
from promoflow.identity.jwks import JwksCache, StaticKeys
from promoflow.identity.schemas import AuthMethod, ClaimMapping, IdentityMisconfigured
from promoflow.identity.tokens import TokenVerifier, TrustedIssuer

_LOOPBACK = {"localhost", "127.0.0.1", "::1"}


def dev_issuer_trusted(settings: Settings) -> bool:
    """Whether the development issuer's tokens are accepted (unset: outside production)."""
    if settings.dev_issuer is None:
        return settings.environment != "production"
    return settings.dev_issuer


def check_settings(settings: Settings) -> None:
    """Raise IdentityMisconfigured, naming the setting, for what a server must not run with."""
    production = settings.environment == "production"
    if production and settings.api_keys.strip():
        raise IdentityMisconfigured(
            "PROMOFLOW_API_KEYS is a development convenience and is refused when "
            "PROMOFLOW_ENVIRONMENT=production: create keys with `promoflow auth keys create` "
            "and unset PROMOFLOW_API_KEYS"
        )
    if production and dev_issuer_trusted(settings) and not settings.dev_issuer_outside_development:
        raise IdentityMisconfigured(
            "PROMOFLOW_DEV_ISSUER=true: the development issuer signs tokens with a key on this "
            "server's disk and is refused when PROMOFLOW_ENVIRONMENT=production; configure "
            "PROMOFLOW_AUTH_ISSUER and PROMOFLOW_AUTH_JWKS_URL instead, or set "
            "PROMOFLOW_DEV_ISSUER_OUTSIDE_DEVELOPMENT=true if you really mean it"
        )
    if settings.auth_issuer and not settings.auth_jwks_url:
        raise IdentityMisconfigured(
            f"PROMOFLOW_AUTH_ISSUER={settings.auth_issuer!r} needs PROMOFLOW_AUTH_JWKS_URL: "
            "the issuer's JWKS address (`jwks_uri` in its /.well-known/openid-configuration)"
        )
    if settings.auth_jwks_url:
        _check_jwks_url(settings.auth_jwks_url, production=production)
    if settings.auth_issuer == dev_issuer.ISSUER:
        raise IdentityMisconfigured(
            f"PROMOFLOW_AUTH_ISSUER={dev_issuer.ISSUER!r} is the development issuer's name; "
            "give your identity provider's issuer"
        )


def _check_jwks_url(url: str, *, production: bool) -> None:
    parts = urlsplit(url)
    if parts.scheme not in {"https", "http"} or not parts.hostname:
        raise IdentityMisconfigured(
            f"PROMOFLOW_AUTH_JWKS_URL={url!r} is not an http(s) URL with a host"
        )
    if parts.scheme == "http" and (production or parts.hostname not in _LOOPBACK):
        # Keys fetched in clear text could be swapped on the way, and with them every identity.
        raise IdentityMisconfigured(
            f"PROMOFLOW_AUTH_JWKS_URL={url!r} must use https (http only to a loopback "
            "test issuer outside production)"
        )


def token_verifier(settings: Settings) -> TokenVerifier:
    """The issuers this server trusts: the configured one and, where allowed, the dev issuer."""
    check_settings(settings)
    issuers: list[TrustedIssuer] = []
    if settings.auth_issuer:
        keys = JwksCache(
            settings.auth_jwks_url,
            max_age_seconds=settings.auth_jwks_cache_seconds,
            min_refetch_seconds=settings.auth_jwks_min_refetch_seconds,
        )
        claims = ClaimMapping(
            subject=settings.auth_subject_claim,
            name=settings.auth_name_claim,
            role=settings.auth_role_claim,
            banners=settings.auth_banner_claim,
        )
        issuers.append(_trusted(settings, settings.auth_issuer, keys, claims, AuthMethod.OIDC))
    if dev_issuer_trusted(settings):
        keys_on_disk = StaticKeys(dev_issuer.verification_keys(settings.data_dir))
        issuers.append(
            _trusted(
                settings, dev_issuer.ISSUER, keys_on_disk, dev_issuer.CLAIMS, AuthMethod.DEV_TOKEN
            )
        )
    return TokenVerifier(issuers)


def _trusted(
    settings: Settings,
    issuer: str,
    keys: JwksCache | StaticKeys,
    claims: ClaimMapping,
    method: AuthMethod,
) -> TrustedIssuer:
    return TrustedIssuer(
        issuer=issuer,
        audience=settings.auth_audience,
        keys=keys,
        claims=claims,
        method=method,
        leeway_seconds=settings.auth_clock_skew_seconds,
    )

"""The token verifier itself: which check refused a token (what the log and audit record),
and the principal a good token yields. The JWKS is served on 127.0.0.1."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from promoflow.config import Settings
from promoflow.identity.schemas import AuthMethod, ClaimRefused, CredentialRefused
from promoflow.identity.startup import token_verifier
from promoflow.identity.tokens import TokenVerifier
from token_support import (
    ISSUER,
    JwksServer,
    claims,
    hmac_signed_with,
    jwks_server,
    rsa_key,
    sign,
    unsigned,
)

RSA = rsa_key("rsa-1")


@pytest.fixture
def provider() -> Iterator[JwksServer]:
    with jwks_server(RSA) as server:
        yield server


@pytest.fixture
def verifier(provider: JwksServer, tmp_path: Path) -> TokenVerifier:
    settings = Settings(
        environment="test",
        data_dir=tmp_path,
        auth_issuer=ISSUER,
        auth_jwks_url=provider.url,
        auth_clock_skew_seconds=30,
        auth_jwks_min_refetch_seconds=0,
        dev_issuer=False,
    )
    return token_verifier(settings)


def test_a_good_token_yields_subject_name_role_banners_method_and_token_id(
    verifier: TokenVerifier,
) -> None:
    principal = verifier.verify(sign(RSA, claims(promoflow_banners=["FreshMart", "FM Express"])))
    assert principal.subject == "5f0c1c9e-ana"
    assert principal.name == "ana"
    assert principal.role == "merchandiser"
    assert principal.banners.allows("FreshMart") and principal.banners.allows("FM Express")
    assert not principal.banners.allows("Other Banner")
    assert principal.method is AuthMethod.OIDC
    assert principal.credential_id == "token-1"


def test_a_star_grants_every_banner_and_no_claim_grants_none(verifier: TokenVerifier) -> None:
    every = verifier.verify(sign(RSA, claims(promoflow_banners="*")))
    assert every.banners.every and every.banners.allows("Any Banner")
    none = verifier.verify(sign(RSA, claims(promoflow_banners=None)))
    assert not none.banners.every and not none.banners.allows("FreshMart")


@pytest.mark.parametrize(
    ("token", "reason"),
    [
        (lambda: sign(rsa_key("rsa-1"), claims()), "signature"),
        # Well past the 30 s skew: one second over it let a slow verification (a JWKS
        # fetch on a busy machine) reach the not-before time and accept the token.
        (lambda: sign(RSA, claims(exp=int(time.time()) - 300)), "expired"),
        (lambda: sign(RSA, claims(nbf=int(time.time()) + 300)), "not_yet_valid"),
        (lambda: sign(RSA, claims(aud="billing")), "audience"),
        (lambda: sign(RSA, claims(iss="https://evil.example.test")), "issuer"),
        (lambda: unsigned(claims(), "rsa-1"), "algorithm"),
        (lambda: hmac_signed_with(b"rsa-1", claims(), "rsa-1"), "algorithm"),
        (lambda: sign(RSA, claims(exp=None)), "missing_claim"),
        (lambda: sign(RSA, claims(), kid="never-published"), "unknown_key"),
        (lambda: "x" * 20_000, "too_large"),
    ],
    ids=[
        "forged",
        "expired",
        "not-yet-valid",
        "audience",
        "issuer",
        "none",
        "hs256",
        "no-exp",
        "unknown-kid",
        "huge",
    ],
)
def test_each_check_refuses_with_its_reason(
    verifier: TokenVerifier, token: Callable[[], str], reason: str
) -> None:
    with pytest.raises(CredentialRefused) as refused:
        verifier.verify(token())
    assert refused.value.reason == reason
    assert refused.value.message == "the bearer token is not valid"


def test_within_the_clock_skew_a_token_is_still_good(verifier: TokenVerifier) -> None:
    now = int(time.time())
    assert verifier.verify(sign(RSA, claims(exp=now - 20))).name == "ana"
    assert verifier.verify(sign(RSA, claims(nbf=now + 20))).name == "ana"


def test_a_banner_claim_of_the_wrong_shape_is_refused_naming_it(verifier: TokenVerifier) -> None:
    with pytest.raises(ClaimRefused, match="claim 'promoflow_banners'"):
        verifier.verify(sign(RSA, claims(promoflow_banners={"FreshMart": True})))

"""Bearer tokens at the API: an OIDC issuer's JWKS on 127.0.0.1, tokens good and hostile.

Each refused token gets the same answer (RFC 6750 section 3.1: 401 with
`WWW-Authenticate: Bearer error="invalid_token"`), so a caller learns nothing
about why; a token whose role claim promoflow cannot use is 403 naming the claim.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from fastapi.testclient import TestClient

from promoflow.config import Settings
from token_support import (
    ISSUER,
    JwksServer,
    claims,
    ec_key,
    hmac_signed_with,
    jwks_server,
    rsa_key,
    sign,
    unsigned,
)

PROBLEM = "application/problem+json"
INVALID_TOKEN = 'Bearer error="invalid_token"'
REFUSED = "the bearer token is not valid"
RSA = rsa_key("rsa-2026-01")


@pytest.fixture
def provider() -> Iterator[JwksServer]:
    with jwks_server(RSA) as server:
        yield server


@contextmanager
def api(settings: Settings, server: JwksServer, **overrides: Any) -> Iterator[TestClient]:
    """A client of an app trusting the test issuer (on the running test runtime)."""
    from promoflow.app import create_app

    trusting = settings.model_copy(
        update={
            "auth_issuer": ISSUER,
            "auth_jwks_url": server.url,
            "auth_jwks_min_refetch_seconds": 0,
            **overrides,
        }
    )
    with TestClient(create_app(trusting, manage_runtime=False)) as client:
        yield client


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_a_valid_token_acts_as_its_subject(
    api_settings: Settings,
    provider: JwksServer,
    catalog: object,
    promotion_body: dict[str, Any],
) -> None:
    token = sign(
        RSA, claims(name="Ana Lima", promoflow_role="merchandiser", promoflow_banners=["*"])
    )
    with api(api_settings, provider) as client:
        assert client.get("/api/v1/promotions", headers=bearer(token)).status_code == 200
        created = client.post("/api/v1/promotions", json=promotion_body, headers=bearer(token))
    assert created.status_code == 201, created.text
    assert created.json()["requested_by"] == "Ana Lima"


def test_an_es256_token_is_accepted(api_settings: Settings, catalog: object) -> None:
    es = ec_key("ec-1")
    with jwks_server(es) as server, api(api_settings, server) as client:
        response = client.get("/api/v1/promotions", headers=bearer(sign(es, claims())))
    assert response.status_code == 200, response.text


def _public_pem() -> bytes:
    return RSA.private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


HOSTILE = {
    "forged signature": lambda: sign(rsa_key(RSA.kid), claims()),
    "expired": lambda: sign(RSA, claims(exp=int(time.time()) - 120)),
    "not yet valid": lambda: sign(RSA, claims(nbf=int(time.time()) + 300)),
    "wrong audience": lambda: sign(RSA, claims(aud="another-api")),
    "wrong issuer": lambda: sign(RSA, claims(iss="https://evil.example.test")),
    "alg none": lambda: unsigned(claims(), RSA.kid),
    "HS256 keyed with the public key": lambda: hmac_signed_with(_public_pem(), claims(), RSA.kid),
    "no expiry": lambda: sign(RSA, claims(exp=None)),
    "no audience": lambda: sign(RSA, claims(aud=None)),
    "not a JWT": lambda: "not.a.token",
    "payload edited after signing": lambda: _edited(sign(RSA, claims())),
}


def _edited(token: str) -> str:
    import base64
    import json

    header, payload, signature = token.split(".")
    claims_ = json.loads(base64.urlsafe_b64decode(payload + "=="))
    claims_["promoflow_role"] = "operations_admin"
    forged = base64.urlsafe_b64encode(json.dumps(claims_).encode()).rstrip(b"=").decode()
    return f"{header}.{forged}.{signature}"


@pytest.mark.parametrize("case", list(HOSTILE))
def test_a_bad_token_is_401_invalid_token_and_says_nothing_more(
    api_settings: Settings, provider: JwksServer, catalog: object, case: str
) -> None:
    with api(api_settings, provider) as client:
        response = client.get("/api/v1/promotions", headers=bearer(HOSTILE[case]()))
    assert response.status_code == 401, (case, response.text)
    assert response.headers["content-type"] == PROBLEM
    assert response.headers["www-authenticate"] == INVALID_TOKEN
    # One answer for every refusal: nothing tells a forger which check failed...
    assert response.json()["detail"] == REFUSED
    # ...but the audit trail keeps the attempt and why it was refused.
    # Found by the id the response carries: log line, answer and record share it.
    (record,) = _audited(response.headers["x-request-id"])
    assert (record.outcome, record.status, record.actor_name) == ("denied", 401, None)
    assert record.reason.startswith("bearer refused: ")
    cause = record.reason.removeprefix("bearer refused: ")
    assert cause == CAUSES.get(case, cause), (case, record.reason)


# What the audit trail must name for the refusals whose cause is unambiguous.
CAUSES = {
    "forged signature": "signature",
    "expired": "expired",
    "not yet valid": "not_yet_valid",
    "wrong audience": "audience",
    "wrong issuer": "issuer",
    "no expiry": "missing_claim",
}


def _audited(request_id: str) -> list[Any]:
    from promoflow.audit import service as audit_service
    from promoflow.runtime import get_runtime

    with get_runtime().sessions() as session:
        return list(audit_service.records_page(session, request_id=request_id, limit=10))


def test_clock_skew_is_a_setting(
    api_settings: Settings, provider: JwksServer, catalog: object
) -> None:
    token = sign(RSA, claims(exp=int(time.time()) - 20))
    with api(api_settings, provider, auth_clock_skew_seconds=60) as lenient:
        assert lenient.get("/api/v1/promotions", headers=bearer(token)).status_code == 200
    with api(api_settings, provider, auth_clock_skew_seconds=0) as strict:
        assert strict.get("/api/v1/promotions", headers=bearer(token)).status_code == 401


@pytest.mark.parametrize(
    ("role", "complaint"),
    [
        ("wizard", "'wizard' is not a promoflow role"),
        (None, "carries no promoflow role"),
        (["merchandiser", "auditor"], "several promoflow roles"),
    ],
)
def test_a_role_promoflow_cannot_use_is_403_naming_the_claim(
    api_settings: Settings, provider: JwksServer, catalog: object, role: Any, complaint: str
) -> None:
    token = sign(RSA, claims(promoflow_role=role))
    with api(api_settings, provider) as client:
        response = client.get("/api/v1/promotions", headers=bearer(token))
    assert response.status_code == 403
    assert response.headers["content-type"] == PROBLEM
    assert "claim 'promoflow_role'" in response.json()["detail"]
    assert complaint in response.json()["detail"]


def test_roles_come_from_the_configured_claim(
    api_settings: Settings, provider: JwksServer, catalog: object
) -> None:
    # Keycloak puts roles in realm_access.roles, next to roles of other applications.
    token = sign(RSA, claims(promoflow_role=None, realm_access={"roles": ["offline", "auditor"]}))
    with api(api_settings, provider, auth_role_claim="realm_access.roles") as client:
        assert client.get("/api/v1/promotions", headers=bearer(token)).status_code == 200
        # The auditor's role, not a merchandiser's: a create is refused.
        assert client.post("/api/v1/promotions", json={}, headers=bearer(token)).status_code == 403


def test_a_rotated_key_is_fetched_and_a_retired_one_refused(
    api_settings: Settings, provider: JwksServer, catalog: object
) -> None:
    successor = rsa_key("rsa-2026-02")
    with api(api_settings, provider) as client:
        first = client.get("/api/v1/promotions", headers=bearer(sign(RSA, claims())))
        assert first.status_code == 200
        assert provider.requests == 1
        provider.publish(successor)  # the provider rotates: the old key is gone
        rotated = client.get("/api/v1/promotions", headers=bearer(sign(successor, claims())))
        assert rotated.status_code == 200, rotated.text
        assert provider.requests == 2
        retired = client.get("/api/v1/promotions", headers=bearer(sign(RSA, claims())))
        assert retired.status_code == 401


def test_unknown_kids_refetch_the_jwks_at_most_once_per_interval(
    api_settings: Settings, provider: JwksServer, catalog: object
) -> None:
    with api(api_settings, provider, auth_jwks_min_refetch_seconds=60) as client:
        first = client.get("/api/v1/promotions", headers=bearer(sign(RSA, claims())))
        assert first.status_code == 200
        for attempt in range(20):
            token = sign(RSA, claims(), kid=f"made-up-{attempt}")
            assert client.get("/api/v1/promotions", headers=bearer(token)).status_code == 401
    # The first use fetched the keys; twenty unknown kids within the interval fetched none.
    assert provider.requests == 1


def test_a_token_and_a_key_together_are_refused(
    api_settings: Settings,
    provider: JwksServer,
    catalog: object,
    auth: Callable[[str], dict[str, str]],
) -> None:
    headers = {**bearer(sign(RSA, claims())), **auth("auditor")}
    with api(api_settings, provider) as client:
        response = client.get("/api/v1/promotions", headers=headers)
    assert response.status_code == 401
    assert "not both" in response.json()["detail"]


def test_a_development_token_is_accepted_only_while_the_dev_issuer_is_on(
    api_settings: Settings, provider: JwksServer, catalog: object
) -> None:
    from promoflow.identity import dev_issuer
    from promoflow.identity.schemas import BannerScope
    from promoflow.kit.clock import utcnow
    from promoflow.kit.roles import Role

    token = dev_issuer.mint(
        api_settings.data_dir,
        user="ana",
        role=Role.AUDITOR,
        banners=BannerScope.of(["FreshMart"]),
        audience=api_settings.auth_audience,
        now=utcnow(),
    )
    with api(api_settings, provider) as client:
        assert client.get("/api/v1/promotions", headers=bearer(token)).status_code == 200
    with api(api_settings, provider, dev_issuer=False) as client:
        assert client.get("/api/v1/promotions", headers=bearer(token)).status_code == 401

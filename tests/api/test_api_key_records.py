"""API key records at the API: `X-API-Key` accepts a created key until it expires or is revoked."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient

from promoflow.identity import service
from promoflow.identity.schemas import IssuedApiKey
from promoflow.kit.clock import utcnow
from promoflow.kit.db import transaction
from promoflow.runtime import get_runtime

PROBLEM = "application/problem+json"
REFUSED = "the API key in the X-API-Key header is not accepted (unknown, expired or revoked)"


def _issue(**overrides: Any) -> IssuedApiKey:
    arguments: dict[str, Any] = {
        "name": "pos-bridge",
        "role": "integration_client",
        "banners": ["*"],
        "days": 30,
        "created_by": "ada.admin",
        "now": utcnow(),
    }
    arguments.update(overrides)
    with transaction(get_runtime().sessions) as session:
        return service.create_api_key(session, **arguments)


def _listed(key_id: str) -> Any:
    with get_runtime().sessions() as session:
        return {key.key_id: key for key in service.list_api_keys(session)}[key_id]


def test_a_created_key_is_accepted_acts_as_its_client_and_records_its_use(
    client: TestClient, promotion_body: dict[str, Any]
) -> None:
    issued = _issue()
    headers = {"X-API-Key": issued.secret}
    assert client.get("/api/v1/promotions", headers=headers).status_code == 200
    created = client.post("/api/v1/promotions", json=promotion_body, headers=headers)
    assert created.status_code == 201, created.text
    assert created.json()["requested_by"] == "pos-bridge"
    assert _listed(issued.key.key_id).last_used_at is not None


def test_a_key_is_held_to_its_role(client: TestClient, promotion_body: dict[str, Any]) -> None:
    issued = _issue(role="auditor")
    headers = {"X-API-Key": issued.secret}
    assert client.get("/api/v1/promotions", headers=headers).status_code == 200
    refused = client.post("/api/v1/promotions", json=promotion_body, headers=headers)
    assert refused.status_code == 403
    assert "auditor" in refused.json()["detail"]


def test_a_revoked_key_is_refused_from_its_next_call(client: TestClient) -> None:
    issued = _issue()
    headers = {"X-API-Key": issued.secret}
    assert client.get("/api/v1/promotions", headers=headers).status_code == 200
    with transaction(get_runtime().sessions) as session:
        service.revoke_api_key(session, issued.key.key_id, by="sec.officer", now=utcnow())
    response = client.get("/api/v1/promotions", headers=headers)
    assert response.status_code == 401
    assert response.headers["content-type"] == PROBLEM
    assert response.json()["detail"] == REFUSED
    # The caller hears "not accepted"; the audit trail keeps why.
    from promoflow.audit import service as audit_service

    with get_runtime().sessions() as session:
        (record,) = audit_service.records_page(
            session, request_id=response.headers["x-request-id"], limit=10
        )
    assert (record.outcome, record.status) == ("denied", 401)
    assert record.reason == "api_key refused: revoked_key"


def test_an_expired_key_is_refused_like_an_unknown_one(client: TestClient) -> None:
    expired = _issue(days=1, now=utcnow() - timedelta(days=1, seconds=1))
    unknown = expired.secret[:-4] + "AAAA"
    answers = [
        client.get("/api/v1/promotions", headers={"X-API-Key": key})
        for key in (expired.secret, unknown)
    ]
    assert [answer.status_code for answer in answers] == [401, 401]
    # Same words for both: a caller cannot tell a key that once worked from a guess.
    assert answers[0].json()["detail"] == answers[1].json()["detail"] == REFUSED
    assert expired.secret not in answers[0].text

"""API key records: random, stored as a hash, scoped, expiring, revocable."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import fields
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from promoflow.identity import service
from promoflow.identity.schemas import ApiKeyView, AuthMethod, CredentialRefused, IssuedApiKey
from promoflow.kit.clock import utcnow
from promoflow.kit.errors import Conflict, InvalidInput, NotFound


def _create(session: Session, **overrides: Any) -> IssuedApiKey:
    arguments: dict[str, Any] = {
        "name": "pos-bridge",
        "role": "integration_client",
        "banners": ["FreshMart"],
        "days": 90,
        "created_by": "ada.admin",
        "now": utcnow(),
    }
    arguments.update(overrides)
    return service.create_api_key(session, **arguments)


def test_a_key_is_random_recognisable_and_stored_only_as_its_hash(session: Session) -> None:
    first, second = _create(session), _create(session)
    assert first.secret != second.secret
    assert first.secret.startswith(f"pfk_{first.key.key_id}_")
    assert len(first.secret) >= 4 + 12 + 1 + 43  # 256 random bits after the id
    stored = session.execute(
        sa.text("SELECT * FROM api_keys WHERE key_id = :id"), {"id": first.key.key_id}
    ).one()
    assert first.secret not in [str(value) for value in stored]
    assert stored.secret_sha256 == hashlib.sha256(first.secret.encode()).hexdigest()


def test_a_listed_key_never_carries_the_key(session: Session) -> None:
    issued = _create(session)
    listed = [key for key in service.list_api_keys(session) if key.key_id == issued.key.key_id]
    assert len(listed) == 1
    assert {field.name for field in fields(ApiKeyView)}.isdisjoint({"secret", "secret_sha256"})
    assert issued.secret not in repr(listed[0])


def test_a_valid_key_stands_for_its_client_role_and_banners(session: Session) -> None:
    issued = _create(session, banners=["FreshMart", "FreshMart Express"])
    checked = service.check_api_key(session, issued.secret, now=utcnow())
    principal = checked.principal
    assert (principal.name, principal.role) == ("pos-bridge", "integration_client")
    assert principal.subject == f"key:{issued.key.key_id}"
    assert principal.method is AuthMethod.API_KEY
    assert principal.credential_id == issued.key.key_id
    assert principal.banners.allows("FreshMart Express") and not principal.banners.allows("Other")
    assert checked.record_use  # never used: its first use is written


@pytest.mark.parametrize(
    ("tamper", "reason"),
    [
        (lambda secret: secret[:-1] + ("A" if secret[-1] != "A" else "B"), "unknown_key"),
        (lambda secret: "pfk_000000000000_" + secret[-43:], "unknown_key"),
        (lambda _secret: "no-prefix", "unknown_key"),
    ],
)
def test_a_wrong_key_is_refused(
    session: Session, tamper: Callable[[str], str], reason: str
) -> None:
    issued = _create(session)
    with pytest.raises(CredentialRefused) as refused:
        service.check_api_key(session, tamper(issued.secret), now=utcnow())
    assert refused.value.reason == reason


def test_a_revoked_key_is_refused_and_cannot_be_revoked_twice(session: Session) -> None:
    issued = _create(session)
    revoked = service.revoke_api_key(session, issued.key.key_id, by="sec.officer", now=utcnow())
    assert revoked.status(utcnow()) == "revoked"
    with pytest.raises(CredentialRefused) as refused:
        service.check_api_key(session, issued.secret, now=utcnow())
    assert refused.value.reason == "revoked_key"
    with pytest.raises(Conflict, match=r"already revoked by sec\.officer"):
        service.revoke_api_key(session, issued.key.key_id, by="someone", now=utcnow())


def test_an_expired_key_is_refused(session: Session) -> None:
    issued = _create(session, days=1, now=utcnow() - timedelta(days=2))
    assert issued.key.status(utcnow()) == "expired"
    with pytest.raises(CredentialRefused) as refused:
        service.check_api_key(session, issued.secret, now=utcnow())
    assert refused.value.reason == "expired_key"


def test_revoking_an_unknown_key_names_it(session: Session) -> None:
    with pytest.raises(NotFound, match="no API key with id 'abc'"):
        service.revoke_api_key(session, "abc", by="ada", now=utcnow())


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"role": "wizard"}, "role"),
        ({"banners": []}, "banner"),
        ({"banners": ["x" * 65]}, "banner"),
        ({"days": 0}, "days"),
        ({"days": 731}, "days"),
        ({"name": " "}, "name"),
        ({"name": "pos\x00bridge"}, "name"),
    ],
)
def test_a_bad_request_names_the_field_and_creates_nothing(
    session: Session, overrides: dict[str, object], field: str
) -> None:
    before = len(service.list_api_keys(session))
    with pytest.raises(InvalidInput) as refused:
        _create(session, **overrides)
    assert refused.value.field == field
    assert len(service.list_api_keys(session)) == before


def test_last_use_is_written_at_most_once_a_minute(session: Session) -> None:
    issued = _create(session)
    now = utcnow()
    service.record_key_use(session, issued.key.key_id, now=now)
    soon = service.check_api_key(session, issued.secret, now=now + timedelta(seconds=30))
    assert not soon.record_use
    later = service.check_api_key(session, issued.secret, now=now + timedelta(minutes=2))
    assert later.record_use
    # An older time never overwrites a newer one (two servers recording at once).
    service.record_key_use(session, issued.key.key_id, now=now - timedelta(hours=1))
    session.expire_all()
    listed = {key.key_id: key for key in service.list_api_keys(session)}
    assert listed[issued.key.key_id].last_used_at == now

"""The rules of idempotency keys (draft-ietf-httpapi-idempotency-key-header-07).

A request with a key is claimed before it runs: the claim commits an in-flight
row, unique per (caller, key), so two processes can never both run it. When the
request has answered, the answer is stored on the row; a later request with the
same key and the same fingerprint gets that answer back, one with another
fingerprint is refused, and one that comes while the first is running is told
to retry. An answer that is a server error is not kept: the key is released so
the client can try again. Keys expire after the configured time; an expired key
is a new key.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from promoflow.idempotency import repository
from promoflow.idempotency.models import IdempotencyKey
from promoflow.idempotency.schemas import (
    Claim,
    IdempotencyKeyInFlight,
    IdempotencyKeyReused,
    KeyedRequest,
    StoredAnswer,
)

PURGE_BATCH = 1000


def caller_namespace(method: str, subject: str) -> str:
    """The namespace of a caller's keys: a digest of how it authenticated and who it is."""
    return hashlib.sha256(f"{method}\x00{subject}".encode()).hexdigest()


def fingerprint(method: str, target: bytes, body: bytes) -> str:
    """A digest of what makes two requests the same request: method, path and query, body.

    `target` is the path and query as sent (bytes: a path may hold any percent-encoded text).
    """
    digest = hashlib.sha256()
    for part in (method.upper().encode(), target, body):
        digest.update(len(part).to_bytes(8, "big"))  # length-prefixed: parts cannot run together
        digest.update(part)
    return digest.hexdigest()


def claim(
    session: Session,
    request: KeyedRequest,
    *,
    now: datetime,
    keep: timedelta,
    retry_after: int,
) -> Claim | StoredAnswer:
    """Own the key for this request, or the stored answer of the first request that sent it.

    Raises IdempotencyKeyReused when the key came with another request, and
    IdempotencyKeyInFlight while the first request has not answered.
    """
    row = repository.find(session, request.caller, request.key)
    if row is not None and row.expires_at <= now:
        repository.delete_expired(session, row.id, now)
        row = None
    if row is None:
        fresh = IdempotencyKey(
            caller=request.caller,
            key=request.key,
            fingerprint=request.fingerprint,
            created_at=now,
            expires_at=now + keep,
        )
        if repository.try_insert(session, fresh):
            return Claim(row_id=fresh.id, request=request)
        row = repository.find(session, request.caller, request.key)
        if row is None:  # claimed and released again in between: as good as in flight
            raise IdempotencyKeyInFlight(request.key, retry_after)
    if row.fingerprint != request.fingerprint:
        raise IdempotencyKeyReused(request.key)
    if row.status is None:
        raise IdempotencyKeyInFlight(request.key, retry_after)
    return StoredAnswer(status=row.status, headers=dict(row.headers or {}), body=row.body or b"")


def remember(session: Session, owned: Claim, answer: StoredAnswer, *, now: datetime) -> bool:
    """Store the answer of a claimed request; False if the claim was gone (purged meanwhile)."""
    changed = repository.complete(
        session,
        owned.row_id,
        status=answer.status,
        headers=answer.headers,
        body=answer.body,
        now=now,
    )
    return changed == 1


def release(session: Session, owned: Claim) -> None:
    """Give the key up (the request failed on the server's side): the client may retry it."""
    repository.delete(session, owned.row_id)


def purge_expired(session: Session, *, now: datetime) -> int:
    """Delete a batch of expired keys; how many went."""
    return repository.purge_expired(session, now, PURGE_BATCH)

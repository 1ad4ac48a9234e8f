"""The dead-letter store: what could not be applied, kept whole for inspection and replay.

Two kinds share one table. A *dead letter* was valid but kept failing until its
retries ran out (a consumer whose handler raised, a call to a system that stayed
down). A *quarantined* payload was malformed and was refused before anything was
applied (an ERP page with a bad row, an EDI file that does not parse). Both keep
the payload and the reason; nothing is dropped silently.

Replay hands a dead letter back to the code that owns its `operation`: modules
register a replayer at import time with `register_replayer`. A replayer applies
the payload idempotently and returns a one-line result; on success the letter is
marked replayed, on failure it stays open with one more attempt counted.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from promoflow.events.log import record_event
from promoflow.integration import repository
from promoflow.integration.models import DeadLetter
from promoflow.integration.schemas import (
    DEAD_LETTER_KINDS,
    DEAD_LETTER_STATUSES,
    DeadLetterKind,
    DeadLetterStatus,
    DeadLetterView,
)
from promoflow.kit.clock import utcnow
from promoflow.kit.db import transaction
from promoflow.kit.errors import Conflict, InvalidInput, NotFound
from promoflow.kit.preconditions import Precondition, check

Replayer = Callable[[DeadLetter], str]
_replayers: dict[str, Replayer] = {}
REASON_LIMIT = 4000


def register_replayer(operation: str, replayer: Replayer) -> None:
    """Say which function re-applies dead letters of `operation` (idempotently)."""
    _replayers[operation] = replayer


def replayable(operation: str) -> bool:
    return operation in _replayers


def record_dead_letter(
    session: Session,
    *,
    kind: str,
    source: str,
    operation: str,
    payload: dict[str, Any],
    reason: str,
    key: str | None = None,
    attempts: int = 1,
) -> DeadLetter:
    """Keep a payload that could not be applied; logs an event in the same transaction."""
    if kind not in DEAD_LETTER_KINDS:
        raise InvalidInput("kind", kind, f"must be one of {', '.join(DEAD_LETTER_KINDS)}")
    letter = DeadLetter(
        kind=kind,
        source=source,
        operation=operation,
        key=key,
        # Kept as JSON whatever it held (dates, decimals): a letter must never fail to file.
        payload=json.loads(json.dumps(payload, default=str)),
        reason=reason[:REASON_LIMIT],
        attempts=attempts,
        status=DeadLetterStatus.OPEN.value,
        created_at=utcnow(),
        resolution_detail="",
    )
    session.add(letter)
    session.flush()
    record_event(
        session,
        f"integration.{kind}.recorded",
        f"dead_letter/{letter.id}",
        {"id": letter.id, "source": source, "operation": operation, "key": key, "reason": reason},
    )
    return letter


def quarantine(
    sessions: sessionmaker[Session],
    *,
    source: str,
    operation: str,
    payload: dict[str, Any],
    reason: str,
    key: str | None = None,
) -> int:
    """Quarantine a malformed payload in its own transaction; returns the letter's id.

    For callers whose own transaction is being rolled back because of the bad payload:
    the quarantine record must survive that rollback.
    """
    with transaction(sessions) as session:
        letter = record_dead_letter(
            session,
            kind=DeadLetterKind.QUARANTINE.value,
            source=source,
            operation=operation,
            payload=payload,
            reason=reason,
            key=key,
        )
        return letter.id


def list_dead_letters(
    session: Session,
    *,
    status: str | None = DeadLetterStatus.OPEN.value,
    kind: str | None = None,
    source: str | None = None,
    limit: int = 100,
    before: int | None = None,
) -> Sequence[DeadLetter]:
    """Newest first (older than id `before` when given), filtered by status, kind and source."""
    if status is not None and status not in DEAD_LETTER_STATUSES:
        raise InvalidInput("status", status, f"must be one of {', '.join(DEAD_LETTER_STATUSES)}")
    if kind is not None and kind not in DEAD_LETTER_KINDS:
        raise InvalidInput("kind", kind, f"must be one of {', '.join(DEAD_LETTER_KINDS)}")
    return repository.dead_letters(
        session, status=status, kind=kind, source=source, limit=limit, before=before
    )


def as_dict(letter: DeadLetter) -> DeadLetterView:
    """A letter as the CLI and API show it."""
    return {
        "id": letter.id,
        "kind": letter.kind,
        "source": letter.source,
        "operation": letter.operation,
        "key": letter.key,
        "payload": letter.payload,
        "reason": letter.reason,
        "attempts": letter.attempts,
        "status": letter.status,
        "replayable": replayable(letter.operation),
        "created_at": letter.created_at.isoformat(),
        "resolved_at": letter.resolved_at.isoformat() if letter.resolved_at else None,
        "resolved_by": letter.resolved_by,
        "resolution_detail": letter.resolution_detail,
    }


def get_dead_letter(session: Session, letter_id: int) -> DeadLetter:
    letter = repository.get_dead_letter(session, letter_id)
    if letter is None:
        raise NotFound(f"dead letter {letter_id} does not exist", id=letter_id)
    return letter


def _open_letter(
    sessions: sessionmaker[Session], letter_id: int, if_match: Precondition | None
) -> DeadLetter:
    with sessions() as session:
        letter = get_dead_letter(session, letter_id)
        session.expunge(letter)
    check(if_match, letter, f"dead letter {letter_id}")  # before a replayer runs for nothing
    if letter.status != DeadLetterStatus.OPEN:
        raise Conflict(
            f"dead letter {letter_id} is already {letter.status}",
            id=letter_id,
            status=letter.status,
        )
    return letter


def replay(
    sessions: sessionmaker[Session],
    letter_id: int,
    actor: str,
    *,
    if_match: Precondition | None = None,
) -> DeadLetter:
    """Re-apply an open dead letter through its operation's replayer.

    The replayer runs outside any transaction of ours (it may call an external
    system and open its own); the outcome is recorded afterwards. A replayer that
    raises leaves the letter open with the error as its latest reason.
    """
    letter = _open_letter(sessions, letter_id, if_match)
    replayer = _replayers.get(letter.operation)
    if replayer is None:
        raise Conflict(
            f"no replayer for operation {letter.operation!r}: fix the source and discard it",
            id=letter_id,
            operation=letter.operation,
        )
    try:
        detail = replayer(letter)
    except Exception as error:
        with transaction(sessions) as session:
            stored = get_dead_letter(session, letter_id)
            stored.attempts += 1
            stored.reason = f"replay by {actor} failed: {error}"[:REASON_LIMIT]
        raise
    return _close(sessions, letter_id, DeadLetterStatus.REPLAYED, actor, detail, True, if_match)


def discard(
    sessions: sessionmaker[Session],
    letter_id: int,
    actor: str,
    reason: str,
    *,
    if_match: Precondition | None = None,
) -> DeadLetter:
    """Close a letter without applying it; the reason is required and kept."""
    if not reason.strip():
        raise InvalidInput("reason", reason, "say why the payload is discarded")
    _open_letter(sessions, letter_id, if_match)
    return _close(sessions, letter_id, DeadLetterStatus.DISCARDED, actor, reason, False, if_match)


def _close(
    sessions: sessionmaker[Session],
    letter_id: int,
    status: DeadLetterStatus,
    actor: str,
    detail: str,
    attempted: bool,
    if_match: Precondition | None = None,
) -> DeadLetter:
    """Mark a letter replayed or discarded, with who and why, and log the event.

    If-Match is checked again here: the UPDATE carries `row_version = <this one>`, so
    a change since the check (another operator closing it) fails rather than overwrites."""
    with transaction(sessions) as session:
        stored = get_dead_letter(session, letter_id)
        check(if_match, stored, f"dead letter {letter_id}")
        stored.status = status.value
        stored.attempts += 1 if attempted else 0
        stored.resolved_at = utcnow()
        stored.resolved_by = actor
        stored.resolution_detail = detail
        record_event(
            session,
            f"integration.dead_letter.{status}",
            f"dead_letter/{letter_id}",
            {"id": letter_id, "operation": stored.operation, "detail": detail},
            actor=actor,
        )
        session.flush()
        session.expunge(stored)
    return stored

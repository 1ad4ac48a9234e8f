"""The audit log's rules: append under the chain's lock, checkpoint, read. Never commits."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import datetime

from sqlalchemy.orm import Session

from promoflow.audit import chain
from promoflow.audit import repository as repo
from promoflow.audit.models import AuditCheckpoint, AuditHead, AuditRecord
from promoflow.audit.schemas import AuditEntry, AuditRecordOut
from promoflow.audit.signing import Notary
from promoflow.kit.clock import utcnow
from promoflow.kit.errors import Unavailable


def _locked_head(session: Session) -> AuditHead:
    head = repo.head(session, for_update=True)
    if head is None:
        raise Unavailable("the audit log has no head row: run `promoflow db upgrade`")
    return head


def record(session: Session, entry: AuditEntry, notary: Notary | None = None) -> AuditRecord:
    """Append `entry` as the chain's next record, in the caller's transaction.

    The head row is locked first, so a second writer waits for this transaction
    to end and then links to this record: the chain never forks. Past every
    `notary.every` records a signed checkpoint is taken in the same transaction.
    """
    head = _locked_head(session)
    fields = {
        "sequence": head.sequence + 1,
        "id": str(uuid.uuid4()),
        "at": utcnow(),
        "actor_subject": chain.text(entry.actor.subject, 200),
        "actor_name": chain.text(entry.actor.name, 200),
        "role": chain.text(entry.actor.role, 40),
        "banners": chain.plain(list(entry.actor.banners)),
        "channel": str(entry.channel),
        "action": chain.text(entry.action, 200),
        "route": chain.text(entry.route, 300),
        "object_type": chain.text(entry.object_type, 60),
        "object_ref": chain.text(entry.object_ref, 200),
        "before": chain.plain(entry.before),
        "after": chain.plain(entry.after),
        "reason": chain.text(entry.reason) or "",
        "request_id": chain.text(entry.request_id, 128),
        "outcome": str(entry.outcome),
        "status": entry.status,
        "prev_hash": head.hash,
    }
    fields["hash"] = chain.record_hash(fields)
    added = AuditRecord(**fields)
    repo.add(session, added)
    head.sequence, head.hash = added.sequence, added.hash
    if notary is not None and notary.every and added.sequence % notary.every == 0:
        _sign(session, notary, added.sequence, added.hash)
    return added


def checkpoint(session: Session, notary: Notary) -> AuditCheckpoint | None:
    """Sign the chain's head now (on demand); None when the log is empty or already signed there."""
    head = _locked_head(session)
    if head.sequence == 0 or any(c.sequence == head.sequence for c in repo.checkpoints(session)):
        return None
    return _sign(session, notary, head.sequence, head.hash)


def _sign(session: Session, notary: Notary, sequence: int, chain_hash: str) -> AuditCheckpoint:
    signed = AuditCheckpoint(
        sequence=sequence,
        hash=chain_hash,
        signed_at=utcnow(),
        key_id=notary.key_id,
        signature=notary.sign(sequence, chain_hash),
    )
    repo.add_checkpoint(session, signed)
    return signed


def records_page(
    session: Session,
    *,
    after: int = 0,
    limit: int = 100,
    actor: str | None = None,
    object_type: str | None = None,
    object_ref: str | None = None,
    outcome: str | None = None,
    request_id: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> list[AuditRecordOut]:
    """A page of records after sequence `after`, oldest first."""
    # An empty window (until at or before since) is an empty page, not an error.
    rows = repo.page(
        session,
        after=after,
        limit=limit,
        actor=actor,
        object_type=object_type,
        object_ref=object_ref,
        outcome=outcome,
        request_id=request_id,
        since=since,
        until=until,
    )
    return [AuditRecordOut.model_validate(row) for row in rows]


def export(session: Session, since: datetime | None = None) -> Iterator[AuditRecordOut]:
    """Every record (from `since`), in chain order, for a JSON-lines export."""
    for row in repo.walk(session):
        if since is None or row.at >= since:
            yield AuditRecordOut.model_validate(row)

"""`audit verify`: walk the chain and the checkpoints, and name every record that is not as written.

Each record is checked three ways: its sequence follows the one before (else
records were deleted), its `prev_hash` is the hash of the record before (else it
was moved or inserted), and its content still hashes to its `hash` (else it was
edited). The head row catches records cut from or added past the end, and the
signed checkpoints catch a chain rebuilt from an edited record onwards, which no
hash alone can (anyone may recompute SHA-256; nobody else can sign).
"""

from __future__ import annotations

from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy.orm import Session

from promoflow.audit import chain
from promoflow.audit import repository as repo
from promoflow.audit.models import AuditRecord
from promoflow.audit.schemas import Finding, Tampering, Verification
from promoflow.audit.signing import signature_holds
from promoflow.kit.errors import InvalidInput

T = Tampering


@dataclass
class _Link:
    sequence: int = 0
    hash: str = chain.GENESIS
    id: str | None = None


class _Walk:
    """The state of one walk: the last record seen and what has been flagged."""

    def __init__(self, session: Session, result: Verification) -> None:
        self.session = session
        self.result = result
        self.prev = _Link()
        self.flagged: set[int] = set()

    def flag(self, kind: Tampering, sequence: int, record_id: str | None, detail: str) -> None:
        self.flagged.add(sequence)
        self.result.findings.append(Finding(kind, sequence, record_id, detail))

    def check(self, row: AuditRecord) -> None:
        prev, seq = self.prev, row.sequence
        content_holds = chain.record_hash(_fields(row)) == row.hash
        if seq != prev.sequence + 1:
            self.flag(
                T.DELETED,
                prev.sequence + 1,
                None,
                f"records {prev.sequence + 1}..{seq - 1} are missing; the chain resumes at "
                f"record {seq} (id {row.id})",
            )
        elif row.prev_hash != prev.hash:
            self._broken_link(row, content_holds)
        if not content_holds and seq not in self.flagged:
            self.flag(T.EDITED, seq, row.id, "its content no longer matches its hash")
        self.prev = _Link(seq, row.hash, row.id)

    def _broken_link(self, row: AuditRecord, content_holds: bool) -> None:
        prev, seq = self.prev, row.sequence
        linked_to = repo.where_hash(self.session, [row.prev_hash]).get(row.prev_hash)
        if linked_to is None:
            detail = "it links to no record of the log" + (
                " (a forged record)" if content_holds else " (its link was changed)"
            )
            self.flag(T.INSERTED if content_holds else T.EDITED, seq, row.id, detail)
        elif linked_to == seq - 2 and prev.sequence not in self.flagged:
            # This record links past the one before it: that one was slipped in.
            self.flag(
                T.INSERTED,
                prev.sequence,
                prev.id,
                f"it is not part of the chain: record {seq} (id {row.id}) links past it "
                f"to record {seq - 2}",
            )
        else:
            self.flag(
                T.REORDERED,
                seq,
                row.id,
                f"it follows record {linked_to}, not record {prev.sequence}",
            )


def _fields(row: AuditRecord) -> dict[str, object]:
    return {name: getattr(row, name) for name in chain.HASHED}


def verify(session: Session, public_key: Ed25519PublicKey | None) -> Verification:
    """Walk the chain, the head and the checkpoints; the findings name each broken record."""
    result = Verification()
    walk = _Walk(session, result)
    signed = {c.sequence: c for c in repo.checkpoints(session)}
    at_checkpoints: dict[int, tuple[str, str]] = {}
    for row in repo.walk(session):
        result.records += 1
        walk.check(row)
        if row.sequence in signed:
            at_checkpoints[row.sequence] = (row.hash, row.id)
    _check_head(session, walk)
    if signed and public_key is None:
        raise InvalidInput(
            "public_key", None, "the log has signed checkpoints: give the public key to check them"
        )
    for sequence, cp in signed.items():
        result.checkpoints += 1
        result.last_checkpoint = max(result.last_checkpoint, sequence)
        assert public_key is not None
        if not signature_holds(public_key, sequence, cp.hash, cp.signature):
            walk.flag(T.CHECKPOINT, sequence, None, "its checkpoint's signature does not hold")
        elif sequence not in at_checkpoints:
            walk.flag(T.DELETED, sequence, None, "it was signed at a checkpoint and is gone")
        elif at_checkpoints[sequence][0] != cp.hash:
            record_id = at_checkpoints[sequence][1]
            walk.flag(
                T.CHECKPOINT,
                sequence,
                record_id,
                "the chain up to here is not the one signed at this checkpoint "
                "(a record before it was changed and the chain recomputed)",
            )
    result.findings.sort(key=lambda finding: finding.sequence)
    return result


def _check_head(session: Session, walk: _Walk) -> None:
    head = repo.head(session)
    last = walk.prev
    if head is None:
        walk.flag(T.DELETED, 0, None, "the chain's head row is missing")
    elif head.sequence > last.sequence:
        walk.flag(
            T.DELETED,
            last.sequence + 1,
            None,
            f"records {last.sequence + 1}..{head.sequence} were cut from the end of the log",
        )
    elif head.sequence < last.sequence:
        first = repo.by_sequence(session, head.sequence + 1)
        walk.flag(
            T.INSERTED,
            head.sequence + 1,
            first.id if first is not None else None,
            f"records {head.sequence + 1}..{last.sequence} were added past the chain's head",
        )
    elif head.hash != last.hash:
        walk.flag(T.EDITED, last.sequence, last.id, "the last record is not the chain's head")

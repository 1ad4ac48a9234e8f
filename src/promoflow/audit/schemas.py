"""What crosses the audit package's boundary: entries to append, records read, findings."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict


class Outcome(StrEnum):
    ALLOWED = "allowed"
    DENIED = "denied"


class Channel(StrEnum):
    """Where the action came from."""

    API = "api"
    CLI = "cli"  # and every in-process caller without a request (the demo's desk)


class Tampering(StrEnum):
    """What `audit verify` found wrong with a record."""

    EDITED = "edited"
    DELETED = "deleted"
    INSERTED = "inserted"
    REORDERED = "reordered"
    CHECKPOINT = "checkpoint"


@dataclass(frozen=True)
class Actor:
    """Who acted: name and role as services record them; the stable subject and banner scope."""

    name: str | None
    role: str | None
    subject: str | None = None
    banners: tuple[str, ...] = ()


@dataclass(frozen=True)
class AuditEntry:
    """One action to append: the chain fields (sequence, hashes, id, time) are added on append."""

    actor: Actor
    action: str
    outcome: Outcome = Outcome.ALLOWED
    route: str | None = None
    object_type: str | None = None
    object_ref: str | None = None
    before: dict[str, Any] | None = None
    after: dict[str, Any] | None = None
    reason: str = ""
    status: int | None = None
    request_id: str | None = None
    channel: Channel = Channel.CLI


@dataclass(frozen=True)
class Finding:
    """One broken link, named by sequence and record id, with what an auditor should read."""

    kind: Tampering
    sequence: int
    record_id: str | None
    detail: str

    def __str__(self) -> str:
        who = (
            f"record {self.sequence} (id {self.record_id})"
            if self.record_id
            else (f"record {self.sequence}")
        )
        return f"{self.kind}: {who}: {self.detail}"


@dataclass
class Verification:
    """The result of walking the chain and the checkpoints."""

    records: int = 0
    checkpoints: int = 0
    last_checkpoint: int = 0
    findings: list[Finding] = field(default_factory=list)

    @property
    def intact(self) -> bool:
        return not self.findings


class AuditRecordOut(BaseModel):
    """An audit record as the API and the export show it (the chain fields included)."""

    model_config = ConfigDict(from_attributes=True)

    sequence: int
    id: str
    at: datetime
    actor_subject: str | None
    actor_name: str | None
    role: str | None
    banners: list[str]
    channel: str
    action: str
    route: str | None
    object_type: str | None
    object_ref: str | None
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    reason: str
    request_id: str | None
    outcome: str
    status: int | None
    prev_hash: str
    hash: str

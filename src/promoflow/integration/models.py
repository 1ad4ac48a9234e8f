"""Rows the integration layer keeps: configured connections, their health, dead letters
and quarantined payloads, and the inbox that makes event consumers idempotent."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from promoflow.integration.schemas import (  # noqa: F401  (the vocabularies, re-exported)
    CIRCUIT_STATES,
    CLAIM_STATES,
    DEAD_LETTER_KINDS,
    DEAD_LETTER_STATUSES,
)
from promoflow.kit.db import Base
from promoflow.kit.types import JsonDict, JsonList, Timestamp, UtcDateTime


class Connection(Base):
    """One configured external system: which connector, its settings, what it serves.

    `config` holds plain settings and, for secret fields, only a reference
    (`env:NAME` or `file:PATH`); the secret itself is never stored.
    """

    __tablename__ = "connections"

    name: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    connector: Mapped[str] = mapped_column(sa.String(64))
    config: Mapped[JsonDict]
    serves: Mapped[JsonList]
    enabled: Mapped[bool] = mapped_column(default=False)
    rate_limit_per_second: Mapped[float | None]
    tested_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    test_ok: Mapped[bool | None]
    test_detail: Mapped[str] = mapped_column(sa.Text, default="")
    created_at: Mapped[Timestamp]
    updated_at: Mapped[Timestamp]
    # Bumped by every ORM UPDATE, which also checks it (see kit/preconditions.py): the ETag.
    row_version: Mapped[int] = mapped_column(default=1, server_default="1")

    __mapper_args__ = {"version_id_col": row_version}  # noqa: RUF012 (SQLAlchemy reads it once)


class ConnectorHealth(Base):
    """Last success, recent error rate and circuit state of one connection."""

    __tablename__ = "connector_health"

    connection: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    circuit_state: Mapped[str] = mapped_column(sa.String(16), default="closed")
    circuit_opened_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    last_success_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    last_failure_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    last_error: Mapped[str] = mapped_column(sa.Text, default="")
    calls: Mapped[int] = mapped_column(default=0)
    failures: Mapped[int] = mapped_column(default=0)
    # The outcomes of the latest calls, oldest first, "1" a success and "0" a failure:
    # the error rate the command view shows is over this window.
    recent: Mapped[str] = mapped_column(sa.String(100), default="")
    # The latest calls, oldest first (operation, outcome, seconds, time, error code), at
    # most `connectors.resilience.LAST_CALLS`: what `connectors diagnostics` shows.
    last_calls: Mapped[JsonList]

    __table_args__ = (
        sa.CheckConstraint("circuit_state IN ('closed','open','half_open')", name="circuit_state"),
    )


class DeadLetter(Base):
    """A message or call that could not be applied, kept for inspection and replay.

    `dead_letter`: it was valid but kept failing (retries exhausted).
    `quarantine`: it was malformed and was refused before anything was applied.
    """

    __tablename__ = "dead_letters"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(16))
    source: Mapped[str] = mapped_column(sa.String(80), index=True)
    operation: Mapped[str] = mapped_column(sa.String(120))
    key: Mapped[str | None] = mapped_column(sa.String(200))
    payload: Mapped[JsonDict]
    reason: Mapped[str] = mapped_column(sa.Text)
    attempts: Mapped[int] = mapped_column(default=1)
    status: Mapped[str] = mapped_column(sa.String(16), default="open", index=True)
    created_at: Mapped[Timestamp]
    resolved_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    resolved_by: Mapped[str | None] = mapped_column(sa.String(80))
    resolution_detail: Mapped[str] = mapped_column(sa.Text, default="")
    # Bumped by every ORM UPDATE, which also checks it (see kit/preconditions.py): the ETag.
    row_version: Mapped[int] = mapped_column(default=1, server_default="1")

    __table_args__ = (
        sa.CheckConstraint("kind IN ('dead_letter','quarantine')", name="kind"),
        sa.CheckConstraint("status IN ('open','replayed','discarded')", name="status"),
    )

    __mapper_args__ = {"version_id_col": row_version}  # noqa: RUF012 (SQLAlchemy reads it once)


class ProcessedEvent(Base):
    """The inbox: an event a consumer has applied, so a redelivery is skipped."""

    __tablename__ = "processed_events"

    consumer: Mapped[str] = mapped_column(sa.String(80), primary_key=True)
    event_id: Mapped[str] = mapped_column(sa.String(80), primary_key=True)
    processed_at: Mapped[Timestamp]


class OutboundClaim(Base):
    """A create sent to a system that enforces no idempotency key, claimed before the call.

    Unique per connection, operation and key, and committed before the call goes
    out: a second worker with the same key finds the claim and waits for the
    holder's `result` instead of creating again. The holder renews `lease_until`
    while its call runs; once a lease lapses (the holder died) or the holder
    released the claim (its call failed), another worker may take it over.
    """

    __tablename__ = "outbound_claims"

    id: Mapped[int] = mapped_column(primary_key=True)
    connection: Mapped[str] = mapped_column(sa.String(64))
    operation: Mapped[str] = mapped_column(sa.String(40))
    key: Mapped[str] = mapped_column(sa.String(200))
    state: Mapped[str] = mapped_column(sa.String(16), default="claimed")
    holder: Mapped[str] = mapped_column(sa.String(120))
    attempts: Mapped[int] = mapped_column(default=1)
    result: Mapped[str | None] = mapped_column(sa.String(200))
    detail: Mapped[str] = mapped_column(sa.Text, default="")
    claimed_at: Mapped[Timestamp]
    lease_until: Mapped[datetime] = mapped_column(UtcDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime())

    __table_args__ = (
        sa.UniqueConstraint("connection", "operation", "key"),
        sa.CheckConstraint("state IN ('claimed','done','released')", name="state"),
    )

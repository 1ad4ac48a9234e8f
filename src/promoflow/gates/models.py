"""Stored gate results with their evidence."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from promoflow.gates.schemas import GATE_STATUSES as GATE_STATUSES  # re-exported
from promoflow.kit.db import Base
from promoflow.kit.types import JsonDict, Timestamp, UtcDateTime


class GateResult(Base):
    """One gate's outcome in one evaluation round; the newest round is current."""

    __tablename__ = "gate_results"

    id: Mapped[int] = mapped_column(primary_key=True)
    promotion_id: Mapped[int] = mapped_column(sa.ForeignKey("promotions.id"), index=True)
    revision: Mapped[int]
    evaluation: Mapped[int]
    gate: Mapped[str] = mapped_column(sa.String(48))
    status: Mapped[str] = mapped_column(sa.String(16))
    blocking: Mapped[bool]
    score: Mapped[float | None]
    threshold: Mapped[float | None]
    summary: Mapped[str] = mapped_column(sa.Text, default="")
    evidence: Mapped[JsonDict]
    policy_version: Mapped[str] = mapped_column(sa.String(32))
    evaluated_at: Mapped[Timestamp]
    waived_by: Mapped[str | None] = mapped_column(sa.String(80))
    waiver_reason: Mapped[str | None] = mapped_column(sa.Text)
    waived_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class GateWaiver(Base):
    """One waiver of one gate for one promotion revision, by an authorised role, with a reason.

    A record, never updated: a later waiver of the same gate adds a row (only once the
    earlier one no longer counts), so the audit trail keeps every waiver as given. The
    one in force is `gates.service.standing_waiver`.
    """

    __tablename__ = "gate_waivers"

    id: Mapped[int] = mapped_column(primary_key=True)
    promotion_id: Mapped[int] = mapped_column(sa.ForeignKey("promotions.id"), index=True)
    revision: Mapped[int]
    gate: Mapped[str] = mapped_column(sa.String(48))
    waived_by: Mapped[str] = mapped_column(sa.String(80))
    role: Mapped[str] = mapped_column(sa.String(40))
    reason: Mapped[str] = mapped_column(sa.Text)
    waived_at: Mapped[Timestamp]

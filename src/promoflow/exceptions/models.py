"""Exception cases raised by the workflow and resolved by people."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from promoflow.exceptions.schemas import CaseStatus
from promoflow.kit.db import Base
from promoflow.kit.types import JsonDict, JsonList, Timestamp, UtcDateTime


class ExceptionCase(Base):
    __tablename__ = "exception_cases"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(40))
    severity: Mapped[str] = mapped_column(sa.String(16))
    status: Mapped[str] = mapped_column(sa.String(16), default=CaseStatus.OPEN, index=True)
    owner_role: Mapped[str] = mapped_column(sa.String(40))
    assignee: Mapped[str | None] = mapped_column(sa.String(80))
    promotion_id: Mapped[int | None] = mapped_column(sa.ForeignKey("promotions.id"), index=True)
    revision: Mapped[int | None]
    workflow_id: Mapped[str | None] = mapped_column(sa.String(80))
    title: Mapped[str] = mapped_column(sa.String(300))
    detail: Mapped[str] = mapped_column(sa.Text, default="")
    linked: Mapped[JsonDict]
    allowed_actions: Mapped[JsonList]
    resolution: Mapped[str | None] = mapped_column(sa.String(32))
    resolved_by: Mapped[str | None] = mapped_column(sa.String(80))
    resolution_reason: Mapped[str | None] = mapped_column(sa.Text)
    opened_at: Mapped[Timestamp]
    resolved_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    # Bumped by every ORM UPDATE, which also checks it (see kit/preconditions.py): the ETag.
    row_version: Mapped[int] = mapped_column(default=1, server_default="1")

    __table_args__ = (
        sa.CheckConstraint("severity IN ('low','medium','high','critical')", name="severity"),
        sa.CheckConstraint("status IN ('open','resolved')", name="status"),
    )

    __mapper_args__ = {"version_id_col": row_version}  # noqa: RUF012 (SQLAlchemy reads it once)

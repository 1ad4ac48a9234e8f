"""Approval tasks, one per required role per promotion revision."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from promoflow.approvals.schemas import TASK_STATUSES as TASK_STATUSES  # re-exported
from promoflow.approvals.schemas import TaskStatus
from promoflow.kit.db import Base
from promoflow.kit.types import Timestamp, UtcDateTime


class ApprovalTask(Base):
    __tablename__ = "approval_tasks"

    id: Mapped[int] = mapped_column(primary_key=True)
    promotion_id: Mapped[int] = mapped_column(sa.ForeignKey("promotions.id"), index=True)
    revision: Mapped[int]
    role: Mapped[str] = mapped_column(sa.String(40))
    # Role currently expected to act; differs from `role` after an escalation.
    assigned_role: Mapped[str] = mapped_column(sa.String(40))
    reason: Mapped[str] = mapped_column(sa.Text, default="")
    status: Mapped[str] = mapped_column(sa.String(16), default=TaskStatus.PENDING)
    sla_hours: Mapped[float]
    due_at: Mapped[datetime] = mapped_column(UtcDateTime())
    reminded_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    escalated_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    decided_by: Mapped[str | None] = mapped_column(sa.String(80))
    decided_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    comment: Mapped[str] = mapped_column(sa.Text, default="")
    created_at: Mapped[Timestamp]
    # Bumped by every ORM UPDATE, which also checks it (see kit/preconditions.py): the ETag.
    row_version: Mapped[int] = mapped_column(default=1, server_default="1")

    __table_args__ = (
        sa.UniqueConstraint("promotion_id", "revision", "role"),
        sa.CheckConstraint("status IN ('pending','approved','rejected','expired')", name="status"),
    )

    __mapper_args__ = {"version_id_col": row_version}  # noqa: RUF012 (SQLAlchemy reads it once)

"""Every query the approvals package makes."""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.orm import Session

from promoflow.approvals.models import ApprovalTask
from promoflow.approvals.schemas import TaskStatus
from promoflow.promotions.models import ForecastLine, Promotion, PromotionLocation


def get_task(session: Session, task_id: int, *, for_update: bool = False) -> ApprovalTask | None:
    """One approval task by id; `for_update` locks its row until the transaction ends.

    Deciding, escalating, expiring and withdrawing a task all lock it first, so on
    PostgreSQL (READ COMMITTED) the second of two concurrent writers waits and then
    reads what the first committed; SQLite's IMMEDIATE transactions serialise them anyway.
    """
    if not for_update:
        return session.get(ApprovalTask, task_id)
    return session.get(ApprovalTask, task_id, with_for_update=True, populate_existing=True)


def lock(session: Session, task: ApprovalTask) -> ApprovalTask:
    """Re-read a loaded task under its row lock (see `get_task`)."""
    session.refresh(task, with_for_update=True)
    return task


def promotion_of(session: Session, task: ApprovalTask) -> Promotion | None:
    """The promotion a task belongs to (a read through the promotions model)."""
    return session.get(Promotion, task.promotion_id)


def tasks_for_revision(
    session: Session, promotion_id: int, revision: int
) -> Sequence[ApprovalTask]:
    """Every approval task of one promotion revision, oldest first."""
    return session.scalars(
        sa.select(ApprovalTask)
        .where(ApprovalTask.promotion_id == promotion_id, ApprovalTask.revision == revision)
        .order_by(ApprovalTask.id)
    ).all()


def decided_tasks(session: Session, promotion_id: int) -> Sequence[ApprovalTask]:
    """Tasks on any revision of the promotion that someone approved or rejected."""
    return session.scalars(
        sa.select(ApprovalTask)
        .where(ApprovalTask.promotion_id == promotion_id, ApprovalTask.decided_by.is_not(None))
        .order_by(ApprovalTask.id)
    ).all()


def pending_tasks(session: Session, assigned_role: str | None = None) -> Sequence[ApprovalTask]:
    """Pending tasks, soonest due first, optionally only those assigned to one role."""
    query = sa.select(ApprovalTask).where(ApprovalTask.status == TaskStatus.PENDING)
    if assigned_role is not None:
        query = query.where(ApprovalTask.assigned_role == assigned_role)
    return session.scalars(query.order_by(ApprovalTask.due_at, ApprovalTask.id)).all()


def location_count(session: Session, promotion_id: int) -> int:
    """How many locations the promotion covers."""
    count = session.scalar(
        sa.select(sa.func.count())
        .select_from(PromotionLocation)
        .where(PromotionLocation.promotion_id == promotion_id)
    )
    return int(count or 0)


def forecast_units_by_item(
    session: Session, promotion_id: int, revision: int
) -> dict[int, tuple[float, float]]:
    """(baseline units, promoted units) per item, summed over locations, for one revision."""
    rows = session.execute(
        sa.select(
            ForecastLine.item_id,
            sa.func.sum(ForecastLine.baseline_units),
            sa.func.sum(ForecastLine.promoted_units),
        )
        .where(ForecastLine.promotion_id == promotion_id, ForecastLine.revision == revision)
        .group_by(ForecastLine.item_id)
    ).all()
    return {int(row[0]): (float(row[1] or 0.0), float(row[2] or 0.0)) for row in rows}

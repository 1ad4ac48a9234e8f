"""Every query the exceptions package makes."""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.orm import Session

from promoflow.exceptions.models import ExceptionCase
from promoflow.exceptions.schemas import CaseKind, CaseStatus
from promoflow.identity.schemas import BannerScope
from promoflow.promotions.repository import visible_to


def get(session: Session, case_id: int, *, for_update: bool = False) -> ExceptionCase | None:
    """One exception case by id; `for_update` locks its row until the transaction ends.

    Every action on a case locks it first, so on PostgreSQL (READ COMMITTED) the second
    of two concurrent actions waits and then reads what the first committed.
    """
    if not for_update:
        return session.get(ExceptionCase, case_id)
    return session.get(ExceptionCase, case_id, with_for_update=True, populate_existing=True)


def lock(session: Session, case: ExceptionCase) -> ExceptionCase:
    """Re-read a loaded case under its row lock (see `get`)."""
    session.refresh(case, with_for_update=True)
    return case


def linked_approval_task(session: Session, case_id: int) -> int | None:
    """The approval task an approval_overdue case is about (None for other cases)."""
    case = session.get(ExceptionCase, case_id)
    if case is None or case.kind != CaseKind.APPROVAL_OVERDUE:
        return None
    task_id = case.linked.get("approval_task_id")
    return int(task_id) if task_id is not None else None


def list_cases(
    session: Session,
    *,
    status: str | None = None,
    owner_role: str | None = None,
    promotion_id: int | None = None,
    kind: str | None = None,
    banners: BannerScope | None = None,
) -> Sequence[ExceptionCase]:
    """Cases matching every filter given, most recently opened first.

    With `banners`, only the cases of promotions within them, and the retailer's cases
    of no promotion only for a scope of every banner (policies/access.yaml).
    """
    query = sa.select(ExceptionCase)
    if banners is not None:
        query = query.where(
            sa.or_(
                sa.and_(
                    ExceptionCase.promotion_id.is_not(None),
                    visible_to(ExceptionCase.promotion_id, banners),
                ),
                sa.and_(ExceptionCase.promotion_id.is_(None), sa.literal(banners.every)),
            )
        )
    if status is not None:
        query = query.where(ExceptionCase.status == status)
    if owner_role is not None:
        query = query.where(ExceptionCase.owner_role == owner_role)
    if promotion_id is not None:
        query = query.where(ExceptionCase.promotion_id == promotion_id)
    if kind is not None:
        query = query.where(ExceptionCase.kind == kind)
    return session.scalars(
        query.order_by(ExceptionCase.opened_at.desc(), ExceptionCase.id.desc())
    ).all()


def open_counts_by_kind(session: Session) -> dict[str, int]:
    """Open cases per kind (one grouped count)."""
    rows = session.execute(
        sa.select(ExceptionCase.kind, sa.func.count())
        .where(ExceptionCase.status == CaseStatus.OPEN)
        .group_by(ExceptionCase.kind)
    ).all()
    return {kind: int(count) for kind, count in rows}

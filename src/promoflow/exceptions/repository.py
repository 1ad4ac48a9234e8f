"""Every query the exceptions package makes."""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.orm import Session

from promoflow.exceptions.models import ExceptionCase


def get(session: Session, case_id: int) -> ExceptionCase | None:
    """One exception case by id."""
    return session.get(ExceptionCase, case_id)


def list_cases(
    session: Session,
    *,
    status: str | None = None,
    owner_role: str | None = None,
    promotion_id: int | None = None,
    kind: str | None = None,
) -> Sequence[ExceptionCase]:
    """Cases matching every filter given, most recently opened first."""
    query = sa.select(ExceptionCase)
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

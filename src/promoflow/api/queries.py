"""Read-only, paginated queries the API needs and no repository offers yet."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.orm import Session

from promoflow.events.models import Event
from promoflow.promotions.models import Promotion

Row = TypeVar("Row")


def _page(
    session: Session, query: sa.Select[Row], limit: int, offset: int
) -> tuple[Sequence[Row], int]:
    total = session.scalar(sa.select(sa.func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(query.limit(limit).offset(offset)).all()
    return rows, total


def promotions_page(
    session: Session, status: str | None, limit: int, offset: int
) -> tuple[Sequence[Promotion], int]:
    """Promotions, oldest first, optionally in one status."""
    query = sa.select(Promotion).order_by(Promotion.id)
    if status:
        query = query.where(Promotion.status == status)
    return _page(session, query, limit, offset)


def events_page(
    session: Session, promotion_id: int, limit: int, offset: int
) -> tuple[Sequence[Event], int]:
    """The promotion's event log in the order it was written."""
    query = sa.select(Event).where(Event.promotion_id == promotion_id).order_by(Event.sequence)
    return _page(session, query, limit, offset)


def slice_page(rows: Sequence[Any], limit: int, offset: int) -> tuple[Sequence[Any], int]:
    """Paginate a list a service already returned whole."""
    return rows[offset : offset + limit], len(rows)

"""Queries for publications and store tasks."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from promoflow.catalog.models import Location
from promoflow.events.models import Event
from promoflow.events.schemas import TYPE_PREFIX
from promoflow.publications.models import Publication, StoreTask


def publication(
    session: Session, promotion_id: int, revision: int, channel: str
) -> Publication | None:
    return session.scalar(
        sa.select(Publication).where(
            Publication.promotion_id == promotion_id,
            Publication.revision == revision,
            Publication.channel == channel,
        )
    )


def publications(
    session: Session, promotion_id: int, revision: int | None = None
) -> Sequence[Publication]:
    query = sa.select(Publication).where(Publication.promotion_id == promotion_id)
    if revision is not None:
        query = query.where(Publication.revision == revision)
    return session.scalars(query.order_by(Publication.id)).all()


def store_tasks(
    session: Session, promotion_id: int, revision: int, *, for_update: bool = False
) -> Sequence[tuple[StoreTask, Location]]:
    """The revision's store tasks with their stores; `for_update` locks the task rows only."""
    query = (
        sa.select(StoreTask, Location)
        .join(Location, Location.id == StoreTask.location_id)
        .where(StoreTask.promotion_id == promotion_id, StoreTask.revision == revision)
        .order_by(StoreTask.id)
    )
    if for_update:
        query = query.with_for_update(of=StoreTask).execution_options(populate_existing=True)
    rows = session.execute(query).all()
    return [(row[0], row[1]) for row in rows]


def ecommerce_locations(session: Session) -> Sequence[Location]:
    return session.scalars(
        sa.select(Location).where(Location.kind == "ecommerce").order_by(Location.id)
    ).all()


def attempt_outcomes(
    session: Session, promotion_id: int, channel: str, since: datetime | None = None
) -> Sequence[tuple[dict[str, Any], datetime]]:
    """The channel's publication attempts of the promotion (every revision), oldest first."""
    query = sa.select(Event.data, Event.time).where(
        Event.promotion_id == promotion_id,
        Event.type == f"{TYPE_PREFIX}publication.attempted",
        Event.subject == f"promotion/{promotion_id}/{channel}",
    )
    if since is not None:
        query = query.where(Event.time >= since)
    return [(data, time) for data, time in session.execute(query.order_by(Event.sequence))]

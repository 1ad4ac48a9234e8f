"""Every query the process-mining exports make: the event log and the objects it names."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import polars as pl
import sqlalchemy as sa
from sqlalchemy.orm import Session

from promoflow.approvals.models import ApprovalTask
from promoflow.catalog.models import Item, Location
from promoflow.events.models import Event
from promoflow.exceptions.models import ExceptionCase
from promoflow.inventory.models import PurchaseOrder, PurchaseOrderLine
from promoflow.promotions.models import (
    Promotion,
    PromotionItem,
    PromotionLocation,
    PromotionRevision,
)
from promoflow.publications.models import Publication
from promoflow.recommendations.models import Recommendation

Rows = Sequence[Any]  # result rows, unpacked by position


def events_frame(
    session: Session, since: datetime | None, until: datetime | None, batch: int = 100_000
) -> pl.DataFrame:
    """event_id, type, time, actor, promotion_id, subject, data (JSON text), in log order."""
    query = sa.select(
        Event.id.label("event_id"),
        Event.type,
        sa.type_coerce(Event.time, sa.String).label("time"),
        Event.actor,
        Event.promotion_id,
        Event.subject,
        sa.cast(Event.data, sa.Text).label("data"),
    ).order_by(Event.sequence)
    if since is not None:
        query = query.where(Event.time >= since)
    if until is not None:
        query = query.where(Event.time < until)
    names = ["event_id", "type", "time", "actor", "promotion_id", "subject", "data"]
    types: dict[str, pl.DataType] = {name: pl.String() for name in names}
    types["promotion_id"] = pl.Int64()
    # The time is text on SQLite and aware datetimes on PostgreSQL: inferred (when any).
    # Fetched in batches, so a million rows never sit in memory as Python tuples.
    result = session.connection().execution_options(yield_per=batch).execute(query)
    frames = [
        pl.DataFrame(
            rows,
            schema=names,
            orient="row",
            schema_overrides={k: t for k, t in types.items() if k != "time"},
        )
        for rows in result.partitions()
    ]
    return pl.concat(frames) if frames else pl.DataFrame(schema=types)


def promotions(session: Session) -> Rows:
    return session.execute(
        sa.select(
            Promotion.id,
            Promotion.code,
            Promotion.name,
            Promotion.mechanic,
            Promotion.category,
            Promotion.requested_by,
            Promotion.start_date,
            Promotion.end_date,
        )
    ).all()


def revisions(session: Session) -> Rows:
    return session.execute(
        sa.select(
            PromotionRevision.promotion_id,
            PromotionRevision.revision,
            PromotionRevision.created_by,
        )
    ).all()


def promotion_scope(session: Session) -> tuple[Rows, Rows]:
    """(promotion_id, item_id) and (promotion_id, location_id) pairs."""
    items = session.execute(sa.select(PromotionItem.promotion_id, PromotionItem.item_id)).all()
    locations = session.execute(
        sa.select(PromotionLocation.promotion_id, PromotionLocation.location_id)
    ).all()
    return items, locations


def items(session: Session) -> Rows:
    return session.execute(
        sa.select(Item.id, Item.sku, Item.name, Item.category, Item.brand, Item.regular_price)
    ).all()


def locations(session: Session) -> Rows:
    return session.execute(
        sa.select(
            Location.id,
            Location.code,
            Location.name,
            Location.kind,
            Location.region,
            Location.banner,
        )
    ).all()


def purchase_orders(session: Session) -> Rows:
    return session.execute(
        sa.select(
            PurchaseOrder.number,
            PurchaseOrder.promotion_id,
            PurchaseOrder.destination_id,
            PurchaseOrder.due_date,
        )
    ).all()


def purchase_order_items(session: Session) -> Rows:
    """(purchase order number, item_id) for every line."""
    return session.execute(
        sa.select(PurchaseOrder.number, PurchaseOrderLine.item_id)
        .join(PurchaseOrder, PurchaseOrder.id == PurchaseOrderLine.purchase_order_id)
        .distinct()
    ).all()


def approval_tasks(session: Session) -> Rows:
    return session.execute(
        sa.select(
            ApprovalTask.id,
            ApprovalTask.promotion_id,
            ApprovalTask.revision,
            ApprovalTask.role,
            ApprovalTask.sla_hours,
        )
    ).all()


def exception_cases(session: Session) -> Rows:
    return session.execute(
        sa.select(
            ExceptionCase.id,
            ExceptionCase.promotion_id,
            ExceptionCase.revision,
            ExceptionCase.kind,
            ExceptionCase.severity,
            ExceptionCase.owner_role,
            ExceptionCase.title,
        )
    ).all()


def publications(session: Session) -> Rows:
    return session.execute(
        sa.select(
            Publication.promotion_id,
            Publication.revision,
            Publication.channel,
        )
    ).all()


def recommendations(session: Session) -> Rows:
    return session.execute(
        sa.select(
            Recommendation.id,
            Recommendation.promotion_id,
            Recommendation.revision,
            Recommendation.kind,
            Recommendation.model_version,
            Recommendation.superseded_by,
        )
    ).all()

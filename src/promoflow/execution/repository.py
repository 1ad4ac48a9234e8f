"""Every query execution variance makes: what was planned and what the lifecycle recorded.

These read other domains' tables (publications, store tasks, gate rounds and waivers,
forecast lines, allocation recommendations, stock, the event log) for one promotion
revision; nothing here writes.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import polars as pl
import sqlalchemy as sa
from sqlalchemy.orm import Session

from promoflow.catalog.models import Item, Location
from promoflow.events.models import Event
from promoflow.gates.models import GateWaiver
from promoflow.inventory.models import InventoryPosition

# The lifecycle's own queries (every gate round, the applied allocation), read as they are.
from promoflow.lifecycle.repository import allocated_stock as lifecycle_allocated
from promoflow.lifecycle.repository import gate_results as gate_results
from promoflow.promotions.models import ForecastLine, PromotionItem, PromotionLocation
from promoflow.publications.models import Publication, StoreTask

KEY = ["item_id", "location_id"]
PROMOTION_EVENTS = "io.promoflow.promotion."


def _utc(moment: datetime | None) -> datetime | None:
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=UTC)


def first_entered(session: Session, promotion_id: int, state: str) -> datetime | None:
    """When the promotion first entered `state` (its transition event), or None."""
    moment = session.scalar(
        sa.select(sa.func.min(Event.time)).where(
            Event.promotion_id == promotion_id, Event.type == PROMOTION_EVENTS + state
        )
    )
    return _utc(moment)


def scope_items(session: Session, promotion_id: int) -> pl.DataFrame:
    """item_id, sku of the promoted items."""
    rows = session.execute(
        sa.select(Item.id, Item.sku)
        .join(PromotionItem, PromotionItem.item_id == Item.id)
        .where(PromotionItem.promotion_id == promotion_id)
        .order_by(Item.id)
    ).all()
    return pl.DataFrame(rows, schema={"item_id": pl.Int64, "sku": pl.String}, orient="row")


def scope_locations(session: Session, promotion_id: int) -> pl.DataFrame:
    """location_id, code, kind of the target locations."""
    rows = session.execute(
        sa.select(Location.id, Location.code, Location.kind)
        .join(PromotionLocation, PromotionLocation.location_id == Location.id)
        .where(PromotionLocation.promotion_id == promotion_id)
        .order_by(Location.id)
    ).all()
    schema = {"location_id": pl.Int64, "code": pl.String, "kind": pl.String}
    return pl.DataFrame(rows, schema=schema, orient="row")


def publications(session: Session, promotion_id: int, revision: int) -> Sequence[Publication]:
    """The revision's publications, one per channel, by id."""
    return session.scalars(
        sa.select(Publication)
        .where(Publication.promotion_id == promotion_id, Publication.revision == revision)
        .order_by(Publication.id)
    ).all()


def store_tasks(session: Session, promotion_id: int, revision: int) -> Sequence[StoreTask]:
    """The revision's store readiness tasks."""
    return session.scalars(
        sa.select(StoreTask)
        .where(StoreTask.promotion_id == promotion_id, StoreTask.revision == revision)
        .order_by(StoreTask.location_id, StoreTask.kind)
    ).all()


def waivers(session: Session, promotion_id: int, revision: int) -> Sequence[GateWaiver]:
    """Every waiver of the revision, oldest first."""
    return session.scalars(
        sa.select(GateWaiver)
        .where(GateWaiver.promotion_id == promotion_id, GateWaiver.revision == revision)
        .order_by(GateWaiver.id)
    ).all()


def forecast_lines(session: Session, promotion_id: int, revision: int) -> pl.DataFrame:
    """item_id, location_id, baseline_units, promoted_units, p10, p90, model_version."""
    rows = session.execute(
        sa.select(
            ForecastLine.item_id,
            ForecastLine.location_id,
            ForecastLine.baseline_units,
            ForecastLine.promoted_units,
            ForecastLine.p10,
            ForecastLine.p90,
            ForecastLine.model_version,
        ).where(ForecastLine.promotion_id == promotion_id, ForecastLine.revision == revision)
    ).all()
    schema = {
        "item_id": pl.Int64,
        "location_id": pl.Int64,
        "baseline_units": pl.Float64,
        "promoted_units": pl.Float64,
        "p10": pl.Float64,
        "p90": pl.Float64,
        "model_version": pl.String,
    }
    return pl.DataFrame(rows, schema=schema, orient="row")


def allocated_stock(session: Session, promotion_id: int, revision: int) -> pl.DataFrame:
    """item_id, location_id, allocated (units sent) and store_stock (already there when
    planned) from the revision's applied allocation recommendations."""
    schema = {
        "item_id": pl.Int64,
        "location_id": pl.Int64,
        "allocated": pl.Float64,
        "store_stock": pl.Float64,
    }
    return (
        pl.DataFrame(
            lifecycle_allocated(session, promotion_id, revision), schema=schema, orient="row"
        )
        .group_by(KEY)
        .agg(pl.col("allocated").sum(), pl.col("store_stock").max())
    )


def shelf_stock(session: Session, promotion_id: int) -> pl.DataFrame:
    """item_id, location_id, shelf (on hand + in transit now) over the promotion's scope."""
    items = sa.select(PromotionItem.item_id).where(PromotionItem.promotion_id == promotion_id)
    places = sa.select(PromotionLocation.location_id).where(
        PromotionLocation.promotion_id == promotion_id
    )
    rows = session.execute(
        sa.select(
            InventoryPosition.item_id,
            InventoryPosition.location_id,
            InventoryPosition.on_hand + InventoryPosition.in_transit,
        ).where(InventoryPosition.item_id.in_(items), InventoryPosition.location_id.in_(places))
    ).all()
    schema = {"item_id": pl.Int64, "location_id": pl.Int64, "shelf": pl.Float64}
    return pl.DataFrame(rows, schema=schema, orient="row")

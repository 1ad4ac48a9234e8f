"""Every query the post-event analysis makes."""

from __future__ import annotations

import polars as pl
import sqlalchemy as sa
from sqlalchemy.orm import Session

from promoflow.catalog.models import Item, Location
from promoflow.inventory.models import WeeklySales
from promoflow.scenario.models import ScenarioPromotionEvent, ScenarioPromotionTruth

PANEL_SCHEMA = {
    "item_id": pl.Int64,
    "location_id": pl.Int64,
    "week": pl.Date,
    "units": pl.Float64,
    "price": pl.Float64,
    "on_promo": pl.Boolean,
    "stockout": pl.Boolean,
    "sku": pl.Utf8,
    "location_code": pl.Utf8,
    "region": pl.Utf8,
    "unit_cost": pl.Float64,
    "regular_price": pl.Float64,
}


def event_by_code(session: Session, code: str) -> ScenarioPromotionEvent | None:
    """One historical promotion of the seeded retailer by its code."""
    query = sa.select(ScenarioPromotionEvent).where(ScenarioPromotionEvent.code == code)
    return session.scalars(query).one_or_none()


def event_codes(session: Session) -> list[str]:
    """Codes of every historical promotion, in order."""
    query = sa.select(ScenarioPromotionEvent.code).order_by(ScenarioPromotionEvent.code)
    return list(session.scalars(query))


def category_panel(session: Session, category: str) -> pl.DataFrame:
    """Weekly POS sales of every item of `category` at every location, with cost and price."""
    query = (
        sa.select(
            WeeklySales.item_id,
            WeeklySales.location_id,
            WeeklySales.week,
            WeeklySales.units,
            WeeklySales.price,
            WeeklySales.on_promo,
            WeeklySales.stockout,
            Item.sku,
            Location.code,
            Location.region,
            Item.unit_cost,
            Item.regular_price,
        )
        .join(Item, Item.id == WeeklySales.item_id)
        .join(Location, Location.id == WeeklySales.location_id)
        .where(Item.category == category)
    )
    rows = [(*row[:10], float(row[10]), float(row[11])) for row in session.execute(query)]
    return pl.DataFrame(rows, schema=PANEL_SCHEMA, orient="row")


def counterfactual_truth(session: Session, event_id: int) -> pl.DataFrame:
    """Units sold and the generator's kept counterfactual for one event's promoted cells
    (counterfactual None where a database was seeded before it was kept)."""
    truth = ScenarioPromotionTruth
    query = (
        sa.select(WeeklySales.units, truth.counterfactual_sold_units)
        .join(
            WeeklySales,
            (WeeklySales.item_id == truth.item_id)
            & (WeeklySales.location_id == truth.location_id)
            & (WeeklySales.week == truth.week),
        )
        .where(truth.event_id == event_id)
    )
    schema = {"units": pl.Float64, "counterfactual_sold_units": pl.Float64}
    rows = [tuple(row) for row in session.execute(query.select_from(truth))]
    return pl.DataFrame(rows, schema=schema, orient="row")

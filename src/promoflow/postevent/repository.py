"""Every query the post-event analysis makes."""

from __future__ import annotations

from datetime import date

import polars as pl
import sqlalchemy as sa
from sqlalchemy.orm import Session

from promoflow.catalog.models import Item, Location
from promoflow.inventory.models import WeeklySales
from promoflow.promotions.models import Promotion, PromotionItem, PromotionLocation
from promoflow.promotions.states import PromotionState
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


def promotion_by_code(session: Session, code: str) -> Promotion | None:
    """A promotion run through the workflow, by its code."""
    return session.scalars(sa.select(Promotion).where(Promotion.code == code)).one_or_none()


def closed_promotion_codes(session: Session) -> list[str]:
    """Codes of the workflow's closed promotions, in order."""
    query = (
        sa.select(Promotion.code)
        .where(Promotion.status == PromotionState.CLOSED)
        .order_by(Promotion.code)
    )
    return list(session.scalars(query))


def promotion_items(session: Session, promotion_id: int) -> list[tuple[str, str, float, float]]:
    """sku, category, regular price and promo price of each promoted item."""
    query = (
        sa.select(Item.sku, Item.category, Item.regular_price, PromotionItem.promo_price)
        .join(PromotionItem, PromotionItem.item_id == Item.id)
        .where(PromotionItem.promotion_id == promotion_id)
        .order_by(Item.sku)
    )
    return [(sku, cat, float(reg), float(promo)) for sku, cat, reg, promo in session.execute(query)]


def promotion_location_codes(session: Session, promotion_id: int) -> list[str]:
    """Codes of the promotion's target locations."""
    query = (
        sa.select(Location.code)
        .join(PromotionLocation, PromotionLocation.location_id == Location.id)
        .where(PromotionLocation.promotion_id == promotion_id)
        .order_by(Location.code)
    )
    return list(session.scalars(query))


# States of a promotion whose prices reached the channels (its items sold on promotion).
WENT_LIVE = (
    PromotionState.LIVE,
    PromotionState.ENDED,
    PromotionState.ANALYSED,
    PromotionState.CLOSED,
)


def promoted_pairs(
    session: Session, categories: list[str], first: date, last: date
) -> list[tuple[str, str, date, date]]:
    """sku, location code, first and last day of every promotion that went live on an item
    of `categories` with days in first..last (this one included)."""
    query = (
        sa.select(Item.sku, Location.code, Promotion.start_date, Promotion.end_date)
        .join(PromotionItem, PromotionItem.promotion_id == Promotion.id)
        .join(Item, Item.id == PromotionItem.item_id)
        .join(PromotionLocation, PromotionLocation.promotion_id == Promotion.id)
        .join(Location, Location.id == PromotionLocation.location_id)
        .where(
            Item.category.in_(categories),
            Promotion.status.in_(WENT_LIVE),
            Promotion.start_date <= last,
            Promotion.end_date >= first,
        )
    )
    return [tuple(row) for row in session.execute(query)]  # type: ignore[misc]


def selling_location_codes(session: Session) -> list[str]:
    """Every store and web shop (the locations a POS or web shop sells from)."""
    query = sa.select(Location.code).where(Location.kind.in_(("store", "ecommerce")))
    return list(session.scalars(query.order_by(Location.code)))


def catalogue_items(session: Session, categories: list[str]) -> list[tuple[str, int, float, float]]:
    """sku, id, unit cost and regular price of every item of `categories`."""
    query = sa.select(Item.sku, Item.id, Item.unit_cost, Item.regular_price).where(
        Item.category.in_(categories)
    )
    return [(sku, i, float(c), float(r)) for sku, i, c, r in session.execute(query)]


def location_ids(session: Session, codes: list[str]) -> list[tuple[str, int, str]]:
    """code, id and region of each location."""
    query = sa.select(Location.code, Location.id, Location.region).where(Location.code.in_(codes))
    return [(code, i, region) for code, i, region in session.execute(query)]


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

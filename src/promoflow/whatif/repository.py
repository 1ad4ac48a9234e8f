"""The reads a what-if makes beyond the forecast's own: the draft's terms and stock."""

from __future__ import annotations

from collections.abc import Collection
from datetime import date

import polars as pl
import sqlalchemy as sa
from sqlalchemy.orm import Session

from promoflow.catalog.models import Item
from promoflow.inventory import service as inventory_service
from promoflow.inventory.models import InventoryPosition
from promoflow.promotions.models import PromotionItem

KEY = ["item_id", "location_id"]


def item_terms(session: Session, promotion_id: int) -> pl.DataFrame:
    """item_id, sku, regular_price, unit_cost, promo_price of the draft's items."""
    rows = session.execute(
        sa.select(Item.id, Item.sku, Item.regular_price, Item.unit_cost, PromotionItem.promo_price)
        .join(PromotionItem, PromotionItem.item_id == Item.id)
        .where(PromotionItem.promotion_id == promotion_id)
        .order_by(Item.id)
    ).all()
    schema = {
        "item_id": pl.Int64,
        "sku": pl.String,
        "regular_price": pl.Float64,
        "unit_cost": pl.Float64,
        "promo_price": pl.Float64,
    }
    data = [(i, sku, float(reg), float(cost), float(promo)) for i, sku, reg, cost, promo in rows]
    return pl.DataFrame(data, schema=schema, orient="row")


def stock_by_start(
    session: Session, item_ids: Collection[int], location_ids: Collection[int], start: date
) -> pl.DataFrame:
    """item_id, location_id, available: on hand + in transit + POs due before `start` −
    allocated, never below 0 (as the stock gates count it); pairs without stock omitted."""
    rows = session.execute(
        sa.select(
            InventoryPosition.item_id,
            InventoryPosition.location_id,
            InventoryPosition.on_hand + InventoryPosition.in_transit - InventoryPosition.allocated,
        ).where(
            InventoryPosition.item_id.in_(list(item_ids)),
            InventoryPosition.location_id.in_(list(location_ids)),
        )
    ).all()
    schema = {"item_id": pl.Int64, "location_id": pl.Int64, "stock": pl.Float64}
    positions = pl.DataFrame(rows, schema=schema, orient="row")
    due = pl.DataFrame(
        inventory_service.outstanding_on_order(session, item_ids, location_ids, start),
        schema={"item_id": pl.Int64, "location_id": pl.Int64, "due": pl.Float64},
        orient="row",
    )
    return (
        positions.join(due, on=KEY, how="full", coalesce=True)
        .select(
            *KEY,
            (pl.col("stock").fill_null(0.0) + pl.col("due").fill_null(0.0))
            .clip(lower_bound=0.0)
            .alias("available"),
        )
        .sort(KEY)
    )

"""Every query allocation, replenishment and sell-through make.

Most are set-based reads into Polars frames for the plans; the rest fetch single
rows of the catalogue and stock by key. Reads of other domains' tables that their
services do not offer yet live here (see the module docstrings of the callers).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import date
from typing import Any

import polars as pl
import sqlalchemy as sa
from sqlalchemy.orm import Session

from promoflow.catalog.models import Item, Location, Supplier
from promoflow.exceptions.models import ExceptionCase
from promoflow.exceptions.schemas import CaseKind
from promoflow.inventory import service as inventory_service
from promoflow.inventory.models import InventoryPosition
from promoflow.promotions.models import ForecastLine, Promotion, PromotionItem, PromotionLocation
from promoflow.promotions.states import PromotionState

STOCK = {"on_hand": pl.Float64, "in_transit": pl.Float64, "allocated": pl.Float64}


def _frame(rows: Sequence[Any], schema: dict[str, Any]) -> pl.DataFrame:
    return pl.DataFrame([tuple(row) for row in rows], schema=schema, orient="row")


def forecast_lines(session: Session, promotion_id: int, revision: int) -> pl.DataFrame:
    """The revision's forecast per item x location, with its model version and inputs hash."""
    rows = session.execute(
        sa.select(
            ForecastLine.item_id,
            ForecastLine.location_id,
            ForecastLine.promoted_units,
            ForecastLine.p10,
            ForecastLine.p50,
            ForecastLine.p90,
            ForecastLine.model_version,
            ForecastLine.inputs_hash,
        )
        .where(ForecastLine.promotion_id == promotion_id, ForecastLine.revision == revision)
        .order_by(ForecastLine.item_id, ForecastLine.location_id)
    ).all()
    schema = {
        "item_id": pl.Int64,
        "location_id": pl.Int64,
        "promoted_units": pl.Float64,
        "p10": pl.Float64,
        "p50": pl.Float64,
        "p90": pl.Float64,
        "model_version": pl.String,
        "inputs_hash": pl.String,
    }
    return _frame(rows, schema)


def scope_items(session: Session, promotion_id: int) -> pl.DataFrame:
    """item_id, sku, case_pack, supplier_id (null when none), unit_cost of promoted items."""
    rows = session.execute(
        sa.select(Item.id, Item.sku, Item.case_pack, Item.supplier_id, Item.unit_cost)
        .join(PromotionItem, PromotionItem.item_id == Item.id)
        .where(PromotionItem.promotion_id == promotion_id)
        .order_by(Item.id)
    ).all()
    data = [(i, sku, pack, supplier, float(cost)) for i, sku, pack, supplier, cost in rows]
    schema = {
        "item_id": pl.Int64,
        "sku": pl.String,
        "case_pack": pl.Int64,
        "supplier_id": pl.Int64,
        "unit_cost": pl.Float64,
    }
    return _frame(data, schema)


def scope_stores(session: Session, promotion_id: int) -> pl.DataFrame:
    """Target locations with their serving DC, capacity and the stock they hold of every item."""
    held = (
        sa.select(
            InventoryPosition.location_id,
            sa.func.sum(InventoryPosition.on_hand + InventoryPosition.in_transit).label("units"),
        )
        .group_by(InventoryPosition.location_id)
        .subquery()
    )
    rows = session.execute(
        sa.select(
            Location.id,
            Location.code,
            Location.serving_dc_id,
            Location.capacity_units,
            sa.func.coalesce(held.c.units, 0.0),
        )
        .join(PromotionLocation, PromotionLocation.location_id == Location.id)
        .outerjoin(held, held.c.location_id == Location.id)
        .where(PromotionLocation.promotion_id == promotion_id)
        .order_by(Location.id)
    ).all()
    schema = {
        "location_id": pl.Int64,
        "code": pl.String,
        "dc_id": pl.Int64,
        "capacity_units": pl.Float64,
        "stock_units": pl.Float64,
    }
    return _frame(rows, schema)


def positions(
    session: Session, item_ids: Collection[int], location_ids: Collection[int]
) -> pl.DataFrame:
    """On hand, in transit and allocated per item x location (pairs without a row omitted)."""
    rows = session.execute(
        sa.select(
            InventoryPosition.item_id,
            InventoryPosition.location_id,
            InventoryPosition.on_hand,
            InventoryPosition.in_transit,
            InventoryPosition.allocated,
        ).where(
            InventoryPosition.item_id.in_(list(item_ids)),
            InventoryPosition.location_id.in_(list(location_ids)),
        )
    ).all()
    return _frame(rows, {"item_id": pl.Int64, "location_id": pl.Int64, **STOCK})


def on_order_due(
    session: Session, item_ids: Collection[int], location_ids: Collection[int], before: date
) -> pl.DataFrame:
    """Outstanding purchase-order units due at the locations before `before`."""
    rows = inventory_service.outstanding_on_order(session, item_ids, location_ids, before)
    schema = {"item_id": pl.Int64, "location_id": pl.Int64, "on_order_due": pl.Float64}
    return _frame(rows, schema)


def suppliers(session: Session, supplier_ids: Collection[int]) -> pl.DataFrame:
    """supplier_id, code, lead_time_days, weekly_capacity_units."""
    rows = session.execute(
        sa.select(
            Supplier.id, Supplier.code, Supplier.lead_time_days, Supplier.weekly_capacity_units
        ).where(Supplier.id.in_(list(supplier_ids)))
    ).all()
    schema = {
        "supplier_id": pl.Int64,
        "supplier_code": pl.String,
        "lead_time_days": pl.Int64,
        "weekly_capacity_units": pl.Float64,
    }
    return _frame(rows, schema)


def item_skus(session: Session, item_ids: Collection[int]) -> dict[int, str]:
    """SKU of each item id."""
    rows = session.execute(sa.select(Item.id, Item.sku).where(Item.id.in_(list(item_ids)))).all()
    return {item_id: sku for item_id, sku in rows}


def location_codes(session: Session, location_ids: Collection[int]) -> dict[int, str]:
    """Code of each location id."""
    rows = session.execute(
        sa.select(Location.id, Location.code).where(Location.id.in_(list(location_ids)))
    ).all()
    return {location_id: code for location_id, code in rows}


def flagged_sell_through(session: Session, promotion_id: int, revision: int) -> set[str]:
    """Keys ("item:location:direction") already raised in this revision's anomaly cases."""
    cases = session.scalars(
        sa.select(ExceptionCase.linked).where(
            ExceptionCase.promotion_id == promotion_id,
            ExceptionCase.revision == revision,
            ExceptionCase.kind == CaseKind.SELL_THROUGH_ANOMALY,
        )
    ).all()
    return {
        f"{line['item_id']}:{line['location_id']}:{line['direction']}"
        for linked in cases
        for line in linked.get("lines", [])
    }


def live_promotions_for_items(session: Session, item_ids: list[int]) -> list[Promotion]:
    """Live promotions that include any of the items."""
    return list(
        session.scalars(
            sa.select(Promotion)
            .where(
                Promotion.status == PromotionState.LIVE,
                Promotion.id.in_(
                    sa.select(PromotionItem.promotion_id).where(PromotionItem.item_id.in_(item_ids))
                ),
            )
            .order_by(Promotion.id)
        ).all()
    )


def promotion(session: Session, promotion_id: int) -> Promotion | None:
    """One promotion by id (None when it is gone)."""
    return session.get(Promotion, promotion_id)


def item(session: Session, item_id: int) -> Item | None:
    """One catalogue item by id."""
    return session.get(Item, item_id)


def location(session: Session, location_id: int) -> Location | None:
    """One store or DC by id."""
    return session.get(Location, location_id)


def supplier(session: Session, supplier_id: int) -> Supplier | None:
    """One supplier by id."""
    return session.get(Supplier, supplier_id)


def position(session: Session, item_id: int, location_id: int) -> InventoryPosition | None:
    """The stock of one item at one location (None when it was never counted)."""
    return session.get(InventoryPosition, (item_id, location_id))

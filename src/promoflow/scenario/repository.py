"""Queries over the seeded scenario: what is there, demand parameters, ground truth."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import polars as pl
import sqlalchemy as sa
from sqlalchemy.orm import Session

from promoflow.catalog.models import Item, Location, Supplier
from promoflow.inventory.models import InventoryPosition, WeeklySales
from promoflow.scenario.demand import CategoryDemand
from promoflow.scenario.models import (
    ScenarioCategoryParams,
    ScenarioDemandParams,
    ScenarioPromotionEvent,
    ScenarioPromotionTruth,
    ScenarioRun,
)

IN_CHUNK = 900  # stays under every database's bound-parameter limit


def latest_run(session: Session) -> ScenarioRun | None:
    """The generation that seeded this database, if any."""
    return session.scalars(sa.select(ScenarioRun).order_by(ScenarioRun.id.desc()).limit(1)).first()


def has_items(session: Session) -> bool:
    """Whether any item exists (the generator then leaves the database alone)."""
    return session.scalar(sa.select(Item.id).limit(1)) is not None


def count_rows(session: Session) -> dict[str, int]:
    """Row counts of the tables a scenario summary reports."""

    def count(model: Any, *where: Any) -> int:
        return int(session.scalar(sa.select(sa.func.count()).select_from(model).where(*where)) or 0)

    return {
        "stores": count(Location, Location.kind == "store"),
        "dcs": count(Location, Location.kind == "dc"),
        "ecommerce_nodes": count(Location, Location.kind == "ecommerce"),
        "skus": count(Item),
        "suppliers": count(Supplier),
        "sales_rows": count(WeeklySales),
        "positions": count(InventoryPosition),
        "promotion_events": count(ScenarioPromotionEvent),
    }


def id_map(session: Session, model: Any) -> dict[str, int]:
    """Natural key (sku or code) -> surrogate id for items, locations or suppliers."""
    key = model.sku if model is Item else model.code
    return {str(k): int(i) for k, i in session.execute(sa.select(key, model.id))}


def load_category_demand(session: Session) -> dict[str, CategoryDemand]:
    """Demand behaviour per category, as the generator drew it."""
    rows = session.scalars(sa.select(ScenarioCategoryParams))
    return {
        row.category: CategoryDemand(
            category=row.category,
            elasticity=row.elasticity,
            summer_amplitude=row.summer_amplitude,
            holiday_amplitude=row.holiday_amplitude,
            wave_sin=row.wave_sin,
            wave_cos=row.wave_cos,
            cannibalisation=row.cannibalisation,
            post_promotion_dip=row.post_promotion_dip,
        )
        for row in rows
    }


def load_demand_params(
    session: Session,
    item_ids: Sequence[int] | None = None,
    location_ids: Sequence[int] | None = None,
) -> pl.DataFrame:
    """item_id, location_id, category, base_rate, elasticity for the scope (None = all)."""
    query = sa.select(
        ScenarioDemandParams.item_id,
        ScenarioDemandParams.location_id,
        Item.category,
        ScenarioDemandParams.base_rate,
        ScenarioDemandParams.elasticity,
    ).join(Item, Item.id == ScenarioDemandParams.item_id)
    if location_ids is not None:
        query = query.where(ScenarioDemandParams.location_id.in_(list(location_ids)))
    schema = {
        "item_id": pl.Int64,
        "location_id": pl.Int64,
        "category": pl.Utf8,
        "base_rate": pl.Float64,
        "elasticity": pl.Float64,
    }
    if item_ids is None:
        rows = [tuple(r) for r in session.execute(query)]
    else:
        ids = list(item_ids)
        rows = []
        for start in range(0, len(ids), IN_CHUNK):
            chunk = ids[start : start + IN_CHUNK]
            rows.extend(
                tuple(r)
                for r in session.execute(query.where(ScenarioDemandParams.item_id.in_(chunk)))
            )
    return pl.DataFrame(rows, schema=schema, orient="row")


def load_promotion_truth(session: Session, event_id: int | None = None) -> pl.DataFrame:
    """Ground truth of historical promotions (one event, or all)."""
    table = ScenarioPromotionTruth.__table__
    query = sa.select(table)
    if event_id is not None:
        query = query.where(table.c.event_id == event_id)
    result = session.execute(query)
    return pl.DataFrame([tuple(r) for r in result], schema=list(result.keys()), orient="row")

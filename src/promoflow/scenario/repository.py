"""Every query of the scenario: the seeded retailer, its ground truth, and what the demo reads.

The generator writes master data and ground truth through here; the storyline's
people and its physical world read the app's queues and stock through here too
(they stand outside the app, so they read its tables the way a report would).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from decimal import Decimal
from typing import Any

import polars as pl
import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from promoflow.approvals.models import ApprovalTask
from promoflow.catalog.models import Item, Location, Ranging, Supplier
from promoflow.events.models import Event
from promoflow.exceptions.models import ExceptionCase
from promoflow.exceptions.schemas import CaseStatus
from promoflow.inventory.models import InventoryPosition, PurchaseOrder, WeeklySales
from promoflow.promotions.models import Promotion
from promoflow.publications.models import StoreTask
from promoflow.recommendations.models import OPEN_STATUS, Recommendation
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


def sales_history_span(session: Session) -> tuple[date | None, date | None]:
    """First and last week of the sales history (None when there is none)."""
    first, last = session.execute(
        sa.select(sa.func.min(WeeklySales.week), sa.func.max(WeeklySales.week))
    ).one()
    return first, last


# Seeding: master data and ground truth written row by row (the big tables go in bulk).


def insert_suppliers(session: Session, rows: Sequence[Mapping[str, Any]]) -> None:
    """Write the generated suppliers."""
    session.execute(sa.insert(Supplier), list(rows))


def insert_items(session: Session, rows: Sequence[Mapping[str, Any]]) -> None:
    """Write the generated items."""
    session.execute(sa.insert(Item), list(rows))


def insert_locations(session: Session, rows: Sequence[Mapping[str, Any]]) -> None:
    """Write generated DCs, stores or the web shop."""
    session.execute(sa.insert(Location), list(rows))


def insert_category_params(session: Session, rows: Sequence[Mapping[str, Any]]) -> None:
    """Write each category's demand behaviour."""
    session.execute(sa.insert(ScenarioCategoryParams), list(rows))


def insert_promotion_events(session: Session, rows: Sequence[Mapping[str, Any]]) -> None:
    """Write the historical promotion events."""
    session.execute(sa.insert(ScenarioPromotionEvent), list(rows))


def promotion_event_ids(session: Session) -> dict[str, int]:
    """Historical promotion event code -> id."""
    query = sa.select(ScenarioPromotionEvent.code, ScenarioPromotionEvent.id)
    return {code: int(i) for code, i in session.execute(query)}


def insert_table_rows(connection: Connection, table: sa.Table, rows: list[dict[str, Any]]) -> None:
    """Write rows through SQLAlchemy (the bulk writer's path on other databases)."""
    connection.execute(sa.insert(table), rows)


def foreign_keys_of(connection: Connection, tables: list[str]) -> list[tuple[str, str, str]]:
    """(table, constraint name, definition) of the PostgreSQL foreign keys on `tables`."""
    query = sa.text(
        "SELECT rel.relname, con.conname, pg_get_constraintdef(con.oid) "
        "FROM pg_constraint con JOIN pg_class rel ON rel.oid = con.conrelid "
        "WHERE con.contype = 'f' AND rel.relname = ANY(:tables) "
        "AND rel.relnamespace = to_regnamespace(current_schema())::oid"
    )
    return [(str(t), str(n), str(d)) for t, n, d in connection.execute(query, {"tables": tables})]


# Picking what the demo and the tests promote.


def _promotable() -> tuple[sa.ColumnElement[bool], ...]:
    return (Item.status == "active", Item.restricted.is_(False), Item.promo_eligible.is_(True))


def store_regions(session: Session) -> list[str]:
    """Regions that have stores, in name order."""
    return list(
        session.scalars(
            sa.select(Location.region)
            .where(Location.kind == "store")
            .distinct()
            .order_by(Location.region)
        ).all()
    )


def promotable_categories(session: Session) -> list[str]:
    """Categories with at least one promotable item, the most promotable items first."""
    rows = session.execute(
        sa.select(Item.category, sa.func.count())
        .where(*_promotable())
        .group_by(Item.category)
        .order_by(sa.func.count().desc(), Item.category)
    ).all()
    return [row[0] for row in rows]


def promotable_skus_ranged_across(
    session: Session, region: str, category: str | None = None
) -> list[str]:
    """Promotable SKUs (of `category`) ranged at every store of `region` and the web shop."""
    scope = list(
        session.scalars(
            sa.select(Location.id).where(
                sa.or_(
                    sa.and_(Location.region == region, Location.kind == "store"),
                    Location.kind == "ecommerce",
                )
            )
        ).all()
    )
    ranged_everywhere = (
        sa.select(Ranging.item_id)
        .where(Ranging.location_id.in_(scope))
        .group_by(Ranging.item_id)
        .having(sa.func.count() == len(scope))
    )
    query = sa.select(Item.sku).where(*_promotable(), Item.id.in_(ranged_everywhere))
    if category is not None:
        query = query.where(Item.category == category)
    return list(session.scalars(query.order_by(Item.id)).all())


def first_restricted_sku(session: Session) -> str | None:
    """The restricted item with the lowest id, if any."""
    return session.scalar(
        sa.select(Item.sku).where(Item.restricted.is_(True)).order_by(Item.id).limit(1)
    )


def lowest_regular_price(session: Session, skus: list[str]) -> Decimal | None:
    """The lowest regular price among `skus` (None when none of them exists)."""
    return session.scalar(sa.select(sa.func.min(Item.regular_price)).where(Item.sku.in_(skus)))


# The desk: the queues the demo's people look at.


def promotions_by_code(session: Session, codes: list[str]) -> Sequence[Promotion]:
    """The promotions among `codes`."""
    return session.scalars(sa.select(Promotion).where(Promotion.code.in_(codes))).all()


def promotions_by_id(session: Session, promotion_ids: list[int]) -> Sequence[Promotion]:
    """The promotions among `promotion_ids`."""
    return session.scalars(sa.select(Promotion).where(Promotion.id.in_(promotion_ids))).all()


def pending_approval_tasks(session: Session, promotion_ids: list[int]) -> Sequence[ApprovalTask]:
    """Approval tasks of these promotions still waiting for a decision."""
    return session.scalars(
        sa.select(ApprovalTask).where(
            ApprovalTask.status == "pending",
            ApprovalTask.promotion_id.in_(promotion_ids),
        )
    ).all()


def open_cases(session: Session, promotion_ids: list[int]) -> Sequence[ExceptionCase]:
    """Exception cases of these promotions nobody has resolved yet."""
    return session.scalars(
        sa.select(ExceptionCase).where(
            ExceptionCase.status == CaseStatus.OPEN,
            ExceptionCase.promotion_id.in_(promotion_ids),
        )
    ).all()


def promotions_with_open_store_tasks(
    session: Session, promotion_ids: list[int], states: Sequence[str]
) -> set[int]:
    """Those of these promotions, in one of `states`, with a store task still open."""
    return set(
        session.scalars(
            sa.select(StoreTask.promotion_id)
            .join(Promotion, Promotion.id == StoreTask.promotion_id)
            .where(
                StoreTask.status == "open",
                StoreTask.promotion_id.in_(promotion_ids),
                Promotion.status.in_(states),
            )
        ).all()
    )


def approval_deciders(session: Session, promotion_ids: list[int]) -> dict[int, set[str]]:
    """Who has decided an approval task, per promotion (segregation of duties)."""
    rows = session.execute(
        sa.select(ApprovalTask.promotion_id, ApprovalTask.decided_by).where(
            ApprovalTask.promotion_id.in_(promotion_ids), ApprovalTask.decided_by.is_not(None)
        )
    ).all()
    result: dict[int, set[str]] = {}
    for promotion_id, person in rows:
        if person is not None:
            result.setdefault(promotion_id, set()).add(person)
    return result


def proposed_recommendations(
    session: Session, promotion_ids: list[int]
) -> Sequence[Recommendation]:
    """Recommendations of these promotions waiting for a planner."""
    return session.scalars(
        sa.select(Recommendation).where(
            Recommendation.status == OPEN_STATUS,
            Recommendation.promotion_id.in_(promotion_ids),
        )
    ).all()


# The physical estate: sales, stock and orders the storyline acts on.


def last_sales_week(session: Session) -> date | None:
    """The latest week with sales history."""
    return session.scalar(sa.select(sa.func.max(WeeklySales.week)))


def mean_weekly_store_units(
    session: Session, skus: list[str], regions: list[str], after: date
) -> list[tuple[str, str, float | None]]:
    """(sku, store code, mean weekly units) over the weeks after `after`, stores in `regions`."""
    rows = session.execute(
        sa.select(Item.sku, Location.code, sa.func.avg(WeeklySales.units))
        .join(Item, Item.id == WeeklySales.item_id)
        .join(Location, Location.id == WeeklySales.location_id)
        .where(
            Item.sku.in_(skus),
            Location.region.in_(regions),
            Location.kind == "store",
            WeeklySales.week > after,
        )
        .group_by(Item.sku, Location.code)
    ).all()
    return [(sku, code, units) for sku, code, units in rows]


def purchase_orders_by_number(session: Session, numbers: list[str]) -> Sequence[PurchaseOrder]:
    """The app's purchase orders among `numbers`."""
    return session.scalars(sa.select(PurchaseOrder).where(PurchaseOrder.number.in_(numbers))).all()


def on_hand_by_sku_and_code(
    session: Session, skus: list[str], location_ids: list[int]
) -> dict[tuple[str, str], float]:
    """The app's on-hand units per (sku, location code) in the scope."""
    rows = session.execute(
        sa.select(Item.sku, Location.code, InventoryPosition.on_hand)
        .join(Item, Item.id == InventoryPosition.item_id)
        .join(Location, Location.id == InventoryPosition.location_id)
        .where(Item.sku.in_(skus), Location.id.in_(location_ids))
    ).all()
    return {(sku, code): float(units) for sku, code, units in rows}


def serving_dc_codes(session: Session, regions: list[str]) -> list[str]:
    """Codes of the DCs serving the stores of `regions`, in code order."""
    return list(
        session.scalars(
            sa.select(Location.code)
            .where(
                Location.id.in_(
                    sa.select(Location.serving_dc_id).where(
                        Location.region.in_(regions), Location.kind == "store"
                    )
                )
            )
            .order_by(Location.code)
        ).all()
    )


def supplier_codes_of(session: Session, skus: list[str]) -> list[str]:
    """Codes of the suppliers of `skus`, each once, in code order."""
    return list(
        session.scalars(
            sa.select(Supplier.code)
            .join(Item, Item.supplier_id == Supplier.id)
            .where(Item.sku.in_(skus))
            .distinct()
            .order_by(Supplier.code)
        ).all()
    )


def coverage_gate_results(session: Session, promotion_id: int) -> list[str]:
    """The inventory-coverage gate's result in each gate evaluation of a promotion, in order."""
    return list(
        session.scalars(
            sa.select(Event.data["gates"]["inventory_coverage"].as_string())
            .where(Event.promotion_id == promotion_id, Event.type == "io.promoflow.gate.evaluated")
            .order_by(Event.sequence)
        ).all()
    )


def event_sales(
    session: Session, code: str
) -> list[tuple[str, str, date, float, float, Decimal, Decimal]]:
    """POS sales of one historical event's promoted cells: sku, location code, week, units,
    price, unit cost, regular price."""
    truth = ScenarioPromotionTruth
    query = (
        sa.select(
            Item.sku,
            Location.code,
            WeeklySales.week,
            WeeklySales.units,
            WeeklySales.price,
            Item.unit_cost,
            Item.regular_price,
        )
        .join(ScenarioPromotionEvent, ScenarioPromotionEvent.id == truth.event_id)
        .join(
            WeeklySales,
            (WeeklySales.item_id == truth.item_id)
            & (WeeklySales.location_id == truth.location_id)
            & (WeeklySales.week == truth.week),
        )
        .join(Item, Item.id == truth.item_id)
        .join(Location, Location.id == truth.location_id)
        .where(ScenarioPromotionEvent.code == code)
        .order_by(Item.sku, Location.code, WeeklySales.week)
    )
    return list(session.execute(query.select_from(truth)).all())

"""Allocation and replenishment plans for one promotion revision.

The maths lives in `promoflow.planning`; this module gathers its inputs (the stored
forecast, store and DC positions, capacities, suppliers) in one short read, runs it
without a session (on SQLite any open transaction holds the writer lock) and shapes
the answer into recommendation lines. Nothing here writes.
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass, field
from datetime import date
from typing import Any

import polars as pl
from sqlalchemy.orm import Session

from promoflow.lifecycle import planning_repository as repo
from promoflow.lifecycle.planning_policy import AllocationSettings
from promoflow.planning.allocation import allocate_dc_stock
from promoflow.promotions.models import Promotion

KEY = ["item_id", "location_id"]
NO_FORECAST = "no-forecast"


@dataclass(frozen=True)
class StockPlan:
    """Recommendation lines (item_id, location_id, source_id, quantity, ...) and their story."""

    lines: list[dict[str, Any]]
    summary: dict[str, Any]
    model_version: str
    inputs_hash: str
    shortfalls: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """Plain data for a DBOS checkpoint."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> StockPlan:
        return cls(**data)


def digest(*parts: pl.DataFrame | str) -> str:
    """sha256 over the frames' rows (sorted, as CSV) and the settings they were judged by."""
    hasher = hashlib.sha256()
    for part in parts:
        if isinstance(part, pl.DataFrame):
            text = part.sort(part.columns).write_csv() if part.height else ",".join(part.columns)
        else:
            text = part
        hasher.update(text.encode())
        hasher.update(b"\x1e")
    return hasher.hexdigest()


def model_version(forecast: pl.DataFrame) -> str:
    versions = sorted(set(forecast["model_version"].to_list()))
    return "+".join(versions)[:64] if versions else NO_FORECAST


@dataclass(frozen=True)
class PlanningInputs:
    """What one promotion revision's plans read, in one short read; planning needs no session.

    demand: forecast lines at the target stores with dc_id and the store's `available`;
    stores: location_id, code, dc_id, capacity_units, stock_units; items: item_id, sku,
    case_pack, supplier_id, unit_cost; dc_stock: item_id, dc_id, shippable (on hand −
    allocated), expected (+ in transit); dc_due: item_id, dc_id, on_order_due;
    suppliers: supplier_id, supplier_code, lead_time_days, weekly_capacity_units.
    """

    start: date
    demand: pl.DataFrame
    stores: pl.DataFrame
    items: pl.DataFrame
    dc_stock: pl.DataFrame
    dc_due: pl.DataFrame
    suppliers: pl.DataFrame
    codes: dict[int, str]

    @property
    def dc_ids(self) -> list[int]:
        return sorted({int(d) for d in self.stores["dc_id"].drop_nulls().to_list()})


def load_inputs(session: Session, promotion: Promotion) -> PlanningInputs:
    """Read everything the allocation and replenishment plans need (a handful of queries)."""
    forecast = repo.forecast_lines(session, promotion.id, promotion.revision)
    stores = repo.scope_stores(session, promotion.id)
    items = repo.scope_items(session, promotion.id)
    item_ids, store_ids = items["item_id"].to_list(), stores["location_id"].to_list()
    dc_ids = sorted({int(d) for d in stores["dc_id"].drop_nulls().to_list()})
    stock = _available(
        repo.positions(session, item_ids, store_ids),
        repo.on_order_due(session, item_ids, store_ids, promotion.start_date),
    )
    demand = (
        forecast.join(stores.select("location_id", "dc_id"), on="location_id", how="inner")
        .join(stock, on=KEY, how="left")
        .with_columns(pl.col("available").fill_null(0.0))
    )
    supplier_ids = items["supplier_id"].drop_nulls().unique().to_list()
    return PlanningInputs(
        start=promotion.start_date,
        demand=demand,
        stores=stores,
        items=items,
        dc_stock=_dc_available(items, dc_ids, repo.positions(session, item_ids, dc_ids)),
        dc_due=repo.on_order_due(session, item_ids, dc_ids, promotion.start_date).rename(
            {"location_id": "dc_id"}
        ),
        suppliers=repo.suppliers(session, supplier_ids),
        codes=repo.location_codes(session, [*store_ids, *dc_ids]),
    )


def _available(position: pl.DataFrame, due: pl.DataFrame) -> pl.DataFrame:
    """Per item x store: what the store has for the window (the launch gate's arithmetic)."""
    return position.join(due, on=KEY, how="full", coalesce=True).select(
        *KEY,
        (
            pl.col("on_hand").fill_null(0.0)
            + pl.col("in_transit").fill_null(0.0)
            + pl.col("on_order_due").fill_null(0.0)
            - pl.col("allocated").fill_null(0.0)
        )
        .clip(0.0)
        .alias("available"),
    )


def _dc_available(items: pl.DataFrame, dc_ids: list[int], position: pl.DataFrame) -> pl.DataFrame:
    """Per item x DC: units the DC can ship (on hand − allocated) and will have (+ in transit)."""
    grid = items.select("item_id").join(
        pl.DataFrame({"dc_id": dc_ids}, schema={"dc_id": pl.Int64}), how="cross"
    )
    dc = position.rename({"location_id": "dc_id"})
    return grid.join(dc, on=["item_id", "dc_id"], how="left").select(
        "item_id",
        "dc_id",
        (pl.col("on_hand").fill_null(0.0) - pl.col("allocated").fill_null(0.0))
        .clip(0.0)
        .alias("shippable"),
        (
            pl.col("on_hand").fill_null(0.0)
            + pl.col("in_transit").fill_null(0.0)
            - pl.col("allocated").fill_null(0.0)
        )
        .clip(0.0)
        .alias("expected"),
    )


def plan_allocation(
    given: PlanningInputs, settings: AllocationSettings, policy_version: str
) -> StockPlan:
    """Whole case packs from each serving DC to its target stores (HiGHS, `planning.allocation`)."""
    demand, stores, items, codes = given.demand, given.stores, given.items, given.codes
    dc_ids, dc_stock = given.dc_ids, given.dc_stock
    relative_cost = settings.transfer_cost_per_unit / settings.filled_unit_value
    room = stores.select(
        "location_id",
        "dc_id",
        (pl.col("capacity_units") - pl.col("stock_units")).clip(0.0).alias("capacity_units"),
        pl.lit(relative_cost).alias("transfer_cost_per_unit"),
    )
    inputs: list[pl.DataFrame] = []
    plans: list[pl.DataFrame] = []
    solved: list[dict[str, Any]] = []
    for dc_id in dc_ids:
        dc_demand = demand.filter(pl.col("dc_id") == dc_id).select(
            *KEY, "promoted_units", "p10", "p90", "available"
        )
        if dc_demand.is_empty():
            continue
        source = (
            dc_stock.filter(pl.col("dc_id") == dc_id)
            .join(items.select("item_id", "case_pack"), on="item_id")
            .select("item_id", pl.col("shippable").alias("available"), "case_pack")
        )
        dc_stores = room.filter(pl.col("dc_id") == dc_id).drop("dc_id")
        plan = allocate_dc_stock(dc_demand, source, dc_stores)
        inputs.extend([dc_demand, source, dc_stores])
        solved.append(
            {
                "dc": codes.get(dc_id, str(dc_id)),
                "status": plan.summary.status,
                "method": plan.summary.method,
                "gap": round(plan.summary.gap, 6),
                "units": plan.summary.units,
            }
        )
        plans.append(plan.lines.filter(pl.col("units") > 0).with_columns(source_id=pl.lit(dc_id)))
    moved = _allocation_moves(plans, demand, items, codes, settings)
    expected_demand = float(demand["promoted_units"].sum()) if demand.height else 0.0
    units = float(sum(line["quantity"] for line in moved))
    cost = round(units * settings.transfer_cost_per_unit, 2)
    summary = {
        "policy_version": policy_version,
        "units": units,
        "packs": int(sum(line["details"]["packs"] for line in moved)),
        "transfer_cost": cost,
        "lines": len(moved),
        "stores": len({line["location_id"] for line in moved}),
        "expected_demand_units": round(expected_demand, 1),
        "store_available_units": round(float(demand["available"].sum()), 1),
        "dcs": solved,
        "stores_without_dc": stores.filter(pl.col("dc_id").is_null())["code"].to_list(),
        "forecast_inputs_hash": sorted(set(demand["inputs_hash"].to_list()))[:3],
    }
    inputs_hash = digest(policy_version, settings.model_dump_json(), *inputs)
    return StockPlan(moved, summary, model_version(demand), inputs_hash)


def _allocation_moves(
    plans: list[pl.DataFrame],
    demand: pl.DataFrame,
    items: pl.DataFrame,
    codes: dict[int, str],
    settings: AllocationSettings,
) -> list[dict[str, Any]]:
    """The plan's non-zero lines as recommendation lines, with what a planner checks."""
    if not plans:
        return []
    lines = (
        pl.concat(plans)
        .join(items.select("item_id", "sku", "case_pack"), on="item_id", how="left")
        .join(demand.select(*KEY, "available"), on=KEY, how="left")
        .sort("source_id", "item_id", "location_id")
    )
    return [
        {
            "item_id": row["item_id"],
            "location_id": row["location_id"],
            "source_id": row["source_id"],
            "quantity": float(row["units"]),
            "expected_service_level": min(1.0, max(0.0, float(row["expected_service_level"]))),
            "details": {
                "sku": row["sku"],
                "store": codes.get(row["location_id"], ""),
                "dc": codes.get(row["source_id"], ""),
                "packs": int(row["packs"]),
                "case_pack": int(row["case_pack"]),
                "store_available_units": round(float(row["available"] or 0.0), 1),
                "expected_demand_units": round(float(row["expected_demand_units"]), 2),
                "expected_filled_units": round(float(row["expected_filled_units"]), 2),
                "transfer_cost": round(float(row["units"]) * settings.transfer_cost_per_unit, 2),
            },
        }
        for row in lines.iter_rows(named=True)
    ]

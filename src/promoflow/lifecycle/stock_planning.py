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
from promoflow.lifecycle.planning_policy import AllocationSettings, ReplenishmentSettings
from promoflow.planning.allocation import allocate_dc_stock
from promoflow.planning.replenishment import propose_purchase_orders
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


def _digest(*parts: pl.DataFrame | str) -> str:
    """sha256 over the frames' rows (sorted, as CSV) and the settings they were judged by."""
    digest = hashlib.sha256()
    for part in parts:
        if isinstance(part, pl.DataFrame):
            text = part.sort(part.columns).write_csv() if part.height else ",".join(part.columns)
        else:
            text = part
        digest.update(text.encode())
        digest.update(b"\x1e")
    return digest.hexdigest()


def _model_version(forecast: pl.DataFrame) -> str:
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
    digest = _digest(policy_version, settings.model_dump_json(), *inputs)
    return StockPlan(moved, summary, _model_version(demand), digest)


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


def plan_replenishment(
    given: PlanningInputs, settings: ReplenishmentSettings, policy_version: str, today: date
) -> StockPlan:
    """Purchase orders into each serving DC for the window demand store + DC stock leaves open."""
    demand, items, quantile = given.demand, given.items, settings.quantile
    per_dc = (
        demand.with_columns(covered=pl.min_horizontal(pl.col("available"), pl.col(quantile)))
        .group_by("item_id", "dc_id")
        .agg(pl.col("p10", "p50", "p90").sum(), pl.col("covered").sum())
        .join(given.dc_stock, on=["item_id", "dc_id"], how="left")
        .join(given.dc_due, on=["item_id", "dc_id"], how="left")
        .join(items, on="item_id", how="left")
        .select(
            "item_id",
            "supplier_id",
            pl.col("dc_id").alias("destination_id"),
            "p10",
            "p50",
            "p90",
            (pl.col(quantile) * settings.safety_stock_share).alias("safety_stock"),
            (pl.col("covered") + pl.col("expected").fill_null(0.0)).alias("on_hand"),
            pl.col("on_order_due").fill_null(0.0),
            "case_pack",
            pl.lit(settings.min_order_units).alias("min_order_units"),
            "sku",
            "unit_cost",
        )
        .sort("item_id", "destination_id")
    )
    supplier_rows, codes = given.suppliers, given.codes
    orderable = per_dc.filter(pl.col("supplier_id").is_not_null())
    proposals = _proposals(orderable, supplier_rows, given.start, today, quantile)
    lines = _order_lines(proposals, codes)
    shortfalls = _shortfalls(proposals, per_dc, codes, quantile)
    units = float(sum(line["quantity"] for line in lines))
    value = round(sum(line["quantity"] * line["details"]["unit_cost"] for line in lines), 2)
    summary = {
        "policy_version": policy_version,
        "quantile": quantile,
        "units": units,
        "order_value": value,
        "lines": len(lines),
        "purchase_orders": len({(ln["source_id"], ln["location_id"]) for ln in lines}),
        "window_demand_units": round(float(per_dc[quantile].sum()), 1) if per_dc.height else 0.0,
        "shortfall_lines": len(shortfalls),
        "shortfall_units": round(sum(s["shortfall_units"] for s in shortfalls), 1),
        "today": today.isoformat(),
    }
    digest = _digest(
        policy_version,
        settings.model_dump_json(),
        today.isoformat(),
        given.start.isoformat(),
        per_dc.drop("sku"),
        supplier_rows,
    )
    return StockPlan(lines, summary, _model_version(demand), digest, shortfalls)


def _proposals(
    needs: pl.DataFrame, supplier_rows: pl.DataFrame, start: date, today: date, quantile: str
) -> pl.DataFrame:
    if needs.is_empty():
        return pl.DataFrame()
    plan = propose_purchase_orders(
        needs.drop("sku", "unit_cost"),
        supplier_rows.drop("supplier_code"),
        window_start=start,
        today=today,
        quantile=quantile,
    )
    return plan.proposals.join(
        needs.select("item_id", "destination_id", "sku", "unit_cost", "case_pack"),
        on=["item_id", "destination_id"],
        how="left",
    ).join(supplier_rows.select("supplier_id", "supplier_code"), on="supplier_id", how="left")


def _order_lines(proposals: pl.DataFrame, codes: dict[int, str]) -> list[dict[str, Any]]:
    if proposals.is_empty():
        return []
    return [
        {
            "item_id": row["item_id"],
            "location_id": row["destination_id"],
            "source_id": row["supplier_id"],
            "quantity": float(row["order_units"]),
            "details": {
                "sku": row["sku"],
                "supplier": row["supplier_code"],
                "dc": codes.get(row["destination_id"], ""),
                "need_units": round(float(row["need_units"]), 1),
                "packs": int(row["packs"]),
                "case_pack": int(row["case_pack"]),
                "unit_cost": float(row["unit_cost"]),
                "order_by": row["order_by"].isoformat(),
                "too_late": bool(row["too_late"]),
                "capacity_limited": bool(row["capacity_limited"]),
                "shortfall_units": round(float(row["shortfall_units"]), 1),
            },
        }
        for row in proposals.filter(pl.col("order_units") > 0).iter_rows(named=True)
    ]


def _shortfalls(
    proposals: pl.DataFrame, per_dc: pl.DataFrame, codes: dict[int, str], quantile: str
) -> list[dict[str, Any]]:
    """Lines the suppliers cannot cover in time or in full (and items nobody supplies)."""
    found: list[dict[str, Any]] = []
    if not proposals.is_empty():
        short = proposals.filter((pl.col("shortfall_units") > 0) | pl.col("too_late"))
        for row in short.iter_rows(named=True):
            reasons = (["supplier_capacity"] if row["shortfall_units"] > 0 else []) + (
                ["too_late"] if row["too_late"] else []
            )
            found.append(
                {
                    "item_id": row["item_id"],
                    "sku": row["sku"],
                    "supplier": row["supplier_code"],
                    "dc": codes.get(row["destination_id"], ""),
                    "need_units": round(float(row["need_units"]), 1),
                    "order_units": float(row["order_units"]),
                    # Too late: nothing of the order lands before the window opens.
                    "shortfall_units": round(
                        float(row["need_units"] if row["too_late"] else row["shortfall_units"]), 1
                    ),
                    "order_by": row["order_by"].isoformat(),
                    "reasons": reasons,
                }
            )
    unsupplied = per_dc.filter(pl.col("supplier_id").is_null()).with_columns(
        need=(
            pl.col(quantile) + pl.col("safety_stock") - pl.col("on_hand") - pl.col("on_order_due")
        )
    )
    for row in unsupplied.filter(pl.col("need") > 0).iter_rows(named=True):
        found.append(
            {
                "item_id": row["item_id"],
                "sku": row["sku"],
                "supplier": None,
                "dc": codes.get(row["destination_id"], ""),
                "need_units": round(float(row["need"]), 1),
                "order_units": 0.0,
                "shortfall_units": round(float(row["need"]), 1),
                "order_by": None,
                "reasons": ["no_supplier"],
            }
        )
    return found

"""The allocation plan: whole case packs from each serving DC to its target stores.

Solved by `planning.allocation` (HiGHS) on the inputs `inputs.load_inputs` read;
the answer is shaped into recommendation lines with what a planner checks.
"""

from __future__ import annotations

from typing import Any

import polars as pl

from promoflow.allocation.inputs import KEY, PlanningInputs, digest, model_version
from promoflow.allocation.policy import AllocationSettings
from promoflow.allocation.schemas import PlanLine, StockPlan
from promoflow.planning.allocation import allocate_dc_stock


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
    return {
        "lines": moved,
        "summary": summary,
        "model_version": model_version(demand),
        "inputs_hash": digest(policy_version, settings.model_dump_json(), *inputs),
        "shortfalls": [],
    }


def _allocation_moves(
    plans: list[pl.DataFrame],
    demand: pl.DataFrame,
    items: pl.DataFrame,
    codes: dict[int, str],
    settings: AllocationSettings,
) -> list[PlanLine]:
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

"""Purchase-order proposals for the window demand that store and DC stock leave open.

Per item and serving DC: the forecast quantile summed over the DC's target stores,
against what those stores hold for the window (each counted only up to its own
demand) plus what the DC has and has due; `planning.replenishment` rounds to packs
and MOQ, shares supplier capacity and flags orders placed too late.
"""

from __future__ import annotations

from datetime import date

import polars as pl

from promoflow.allocation.inputs import PlanningInputs, digest, model_version
from promoflow.allocation.policy import ReplenishmentSettings
from promoflow.allocation.schemas import PlanLine, Shortfall, StockPlan
from promoflow.planning.replenishment import propose_purchase_orders


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
    inputs_hash = digest(
        policy_version,
        settings.model_dump_json(),
        today.isoformat(),
        given.start.isoformat(),
        per_dc.drop("sku"),
        supplier_rows,
    )
    return {
        "lines": lines,
        "summary": summary,
        "model_version": model_version(demand),
        "inputs_hash": inputs_hash,
        "shortfalls": shortfalls,
    }


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


def _order_lines(proposals: pl.DataFrame, codes: dict[int, str]) -> list[PlanLine]:
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
) -> list[Shortfall]:
    """Lines the suppliers cannot cover in time or in full (and items nobody supplies)."""
    found: list[Shortfall] = []
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

"""Purchase-order proposals for a promo window: need, pack and MOQ rounding, lead time,
supplier capacity.

Per item x supplier x destination (DC):
need = max(0, target-quantile window demand + safety stock − (on hand + on order due
before the window)). The order must be placed lead-time days before the window starts;
when that day has passed the proposal stays, flagged `too_late` (expedite). Orders round
up to whole case packs and at least the minimum order quantity. A supplier makes at
most its weekly capacity in each week from today to the window start; when the orders
exceed that, the capacity is shared in proportion to need, rounded down to packs (so
up to a pack per line may stay unused), and the rest of each line's need is reported
as a shortfall for the workflow to open an exception on.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import polars as pl

from promoflow.kit.errors import InvalidInput
from promoflow.planning.frames import case_packs, numbers, require_columns, unique_keys

KEY = ("item_id", "supplier_id", "destination_id")
QUANTILES = ("p10", "p50", "p90")
# Plus the chosen quantile column (window demand at the destination).
NEED_COLUMNS = (*KEY, "safety_stock", "on_hand", "on_order_due", "case_pack", "min_order_units")
SUPPLIER_COLUMNS = ("supplier_id", "lead_time_days", "weekly_capacity_units")
NEEDS = "replenishment needs"
SUPPLIERS = "supplier list"


@dataclass(frozen=True)
class ReplenishmentPlan:
    """Proposals (lines with a need) and the shortfalls among them."""

    proposals: pl.DataFrame
    shortfalls: pl.DataFrame


def propose_purchase_orders(
    needs: pl.DataFrame,
    suppliers: pl.DataFrame,
    *,
    window_start: date,
    today: date,
    quantile: str = "p90",
) -> ReplenishmentPlan:
    """Purchase-order proposals and capacity shortfalls for a window starting `window_start`."""
    if quantile not in QUANTILES:
        raise InvalidInput("quantile", quantile, f"use one of {', '.join(QUANTILES)}")
    lines = _lines(needs, suppliers, quantile)
    target = lines[quantile].to_numpy()
    stock = lines["on_hand"].to_numpy() + lines["on_order_due"].to_numpy()
    need = np.maximum(target + lines["safety_stock"].to_numpy() - stock, 0.0)
    keep = need > 0
    lines, need = lines.filter(pl.Series(keep)), need[keep]
    pack = lines["case_pack"].to_numpy()
    # The tolerance keeps 24.000000001 units from costing a third pack of 12.
    wanted = np.ceil(np.maximum(need, lines["min_order_units"].to_numpy()) / pack - 1e-9) * pack

    weeks = max((window_start - today).days, 0) / 7.0
    capacity = lines["weekly_capacity_units"].to_numpy() * weeks
    supplier = lines["supplier_id"].to_numpy()
    _, group = np.unique(supplier, return_inverse=True)
    wanted_total = np.bincount(group, weights=wanted)[group]
    need_total = np.bincount(group, weights=need)[group]
    limited = wanted_total > capacity + 1e-9
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(need_total > 0, capacity * need / need_total, 0.0)
    capped = np.minimum(np.floor(share / pack + 1e-9) * pack, wanted)
    order = np.where(limited, capped, wanted)

    proposals = lines.select(
        *KEY,
        pl.Series("target_units", target[keep]),
        pl.Series("need_units", need),
        pl.Series("packs", (order / pack).round().astype(np.int64)),
        pl.Series("order_units", order),
        (pl.lit(window_start) - pl.duration(days=pl.col("lead_time_days"))).alias("order_by"),
        pl.Series("capacity_limited", limited),
        pl.Series("below_min_order", (order > 0) & (order < lines["min_order_units"].to_numpy())),
        pl.Series("shortfall_units", np.maximum(need - order, 0.0)),
        pl.Series("supplier_capacity_units", capacity),
    ).with_columns(too_late=pl.col("order_by") < pl.lit(today))
    shortfalls = proposals.filter(pl.col("shortfall_units") > 0).select(
        *KEY,
        "need_units",
        "order_units",
        "shortfall_units",
        "supplier_capacity_units",
        pl.lit("supplier_capacity").alias("reason"),
    )
    return ReplenishmentPlan(proposals=proposals, shortfalls=shortfalls)


def _lines(needs: pl.DataFrame, suppliers: pl.DataFrame, quantile: str) -> pl.DataFrame:
    """Validated need lines joined to their supplier's lead time and capacity."""
    require_columns(needs, (*NEED_COLUMNS, quantile), NEEDS)
    require_columns(suppliers, SUPPLIER_COLUMNS, SUPPLIERS)
    unique_keys(needs, KEY, NEEDS)
    unique_keys(suppliers, ("supplier_id",), SUPPLIERS)
    for column in (quantile, "safety_stock", "on_hand", "on_order_due", "min_order_units"):
        numbers(needs, column, NEEDS, key=KEY)
    case_packs(needs, NEEDS, KEY)
    for column in ("lead_time_days", "weekly_capacity_units"):
        numbers(suppliers, column, SUPPLIERS, key=("supplier_id",))
    joined = needs.join(
        suppliers.select(SUPPLIER_COLUMNS), on="supplier_id", how="left", maintain_order="left"
    )
    unknown = joined["lead_time_days"].is_null()
    if unknown.any():
        supplier_id = joined["supplier_id"][int(unknown.arg_true()[0])]
        raise InvalidInput("supplier_id", supplier_id, "has needs but is not in the supplier list")
    return joined.with_columns(
        pl.col(quantile, "safety_stock", "on_hand", "on_order_due", "case_pack").cast(pl.Float64),
        pl.col("min_order_units", "weekly_capacity_units").cast(pl.Float64),
        pl.col("lead_time_days").cast(pl.Int64),
    )

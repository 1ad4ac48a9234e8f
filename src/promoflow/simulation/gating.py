"""The launch gates on a simulated promotion: promoflow's own `gates.evaluate`, in memory.

The simulation builds the same `GateInputs` the lifecycle loads from the database
(stock and forecast per item-store, approval tasks, published promo prices) and reads
the verdicts of the blocking gates it models: inventory coverage, stockout risk,
approvals complete and price validity. Purchase orders, store tasks and channel
ranging are outside the simulation and handed over empty (those gates pass).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta

import numpy as np
import polars as pl

from promoflow.approvals.schemas import TaskStatus
from promoflow.gates.evaluate import evaluate
from promoflow.gates.inputs import GateInputs
from promoflow.gates.policy import GatePolicy
from promoflow.gates.schemas import Gate
from promoflow.simulation.world import Floats, Promotion

STOCK_GATES = (Gate.INVENTORY_COVERAGE, Gate.STOCKOUT_RISK)
RELEASE_GATES = (Gate.APPROVALS_COMPLETE, Gate.PRICE_VALIDITY)
CHANNEL = "pos"


@dataclass(frozen=True)
class GateCheck:
    """Which blocking gates the check failed."""

    stock_failed: bool
    release_failed: bool
    failed: tuple[str, ...]


def check_gates(
    promotion: Promotion,
    *,
    day: int,
    store_stock: Floats,
    approved: bool,
    price_arrived: np.ndarray,
    policy: GatePolicy,
) -> GateCheck:
    """Evaluate the gate policy `day` days from launch on the promotion's simulated facts."""
    outcomes = evaluate(_inputs(promotion, day, store_stock, approved, price_arrived), policy)
    failed = tuple(o.gate for o in outcomes if o.blocking and o.status == "fail")
    return GateCheck(
        stock_failed=any(g in failed for g in STOCK_GATES),
        release_failed=any(g in failed for g in RELEASE_GATES),
        failed=failed,
    )


def _inputs(
    promotion: Promotion,
    day: int,
    store_stock: Floats,
    approved: bool,
    price_arrived: np.ndarray,
) -> GateInputs:
    items, stores = promotion.item_ids, promotion.store_ids
    n_items, n_stores = len(items), len(stores)
    weeks = promotion.days / 7.0
    item_col = np.repeat(np.array(items, dtype=np.int64), n_stores)
    store_col = np.tile(np.array(stores, dtype=np.int64), n_items)
    zeros = np.zeros(n_items * n_stores)
    coverage = pl.DataFrame(
        {
            "item_id": item_col,
            "location_id": store_col,
            "upper_quantile_units": promotion.forecast_p90.ravel(),
            "promoted_units": promotion.forecast_mean.ravel(),
            "p10": promotion.forecast_p10.ravel(),
            "p90": promotion.forecast_p90.ravel(),
            "baseline_units": (promotion.baseline_weekly * weeks).ravel(),
            "on_hand": store_stock.ravel(),
            "in_transit": zeros,
            "on_order_before_start": zeros,
            "allocated": zeros,
        }
    )
    promo_price = promotion.promo_price
    # An item whose price has not reached every store shows the regular price somewhere.
    everywhere = price_arrived.all(axis=1)
    published = pl.DataFrame(
        {
            "item_id": np.array(items, dtype=np.int64),
            "channel": [CHANNEL] * n_items,
            "amount": np.where(everywhere, promo_price, promotion.regular_price),
        }
    )
    as_of = datetime.combine(promotion.launch + timedelta(days=day), time(6, 0))
    return GateInputs(
        promotion_id=1,
        revision=1,
        promotion_code=promotion.code,
        start=promotion.launch,
        end=promotion.launch + timedelta(days=promotion.days - 1),
        channels=(CHANNEL,),
        as_of=as_of,
        quantile="p90",
        forecast_available=True,
        below_cost_approved=True,
        items=pl.DataFrame(
            {
                "item_id": np.array(items, dtype=np.int64),
                "sku": [f"SKU-{i:05d}" for i in items],
                "category": ["simulated"] * n_items,
                "promo_price": promo_price,
                "unit_cost": promotion.unit_cost,
            }
        ),
        locations=pl.DataFrame(
            {
                "location_id": np.array(stores, dtype=np.int64),
                "code": [f"ST-{s:03d}" for s in stores],
                "region": ["simulated"] * n_stores,
            }
        ),
        coverage=coverage,
        forecast_models=pl.DataFrame(
            {"model_version": ["simulation"], "inputs_hash": ["0" * 64], "lines": [coverage.height]}
        ),
        purchase_orders=pl.DataFrame(schema={"po_number": pl.String}),
        supplier_history=pl.DataFrame(schema={"supplier_id": pl.Int64}),
        prices=pl.DataFrame(
            schema={
                "item_id": pl.Int64,
                "zone": pl.String,
                "channel": pl.String,
                "regular_price": pl.Float64,
            }
        ),
        published_prices=published,
        overlaps=pl.DataFrame(
            schema={"other_code": pl.String, "item_id": pl.Int64, "location_id": pl.Int64}
        ),
        approvals=pl.DataFrame(
            {
                "role": ["simulated_approvers"],
                "status": [TaskStatus.APPROVED if approved else TaskStatus.PENDING],
            }
        ),
        store_tasks=pl.DataFrame(
            schema={"location_id": pl.Int64, "kind": pl.String, "status": pl.String}
        ),
        channel_ranging=pl.DataFrame(
            {
                "item_id": np.array(items, dtype=np.int64),
                "channel": [CHANNEL] * n_items,
                "ranged_locations": [n_stores] * n_items,
                "channel_locations": [n_stores] * n_items,
            }
        ),
    )

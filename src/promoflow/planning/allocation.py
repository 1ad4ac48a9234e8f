"""Allocate one DC's stock to its stores in whole case packs (see `allocation_model`).

Maximises expected filled demand minus transfer cost, where a filled unit is worth 1
in the currency of `transfer_cost_per_unit`. Call it once per DC with the stores that
DC serves. `time_limit_seconds` bounds the solver only; building the model adds a few
seconds at 500 SKUs x 1,000 stores.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from promoflow.kit.errors import InvalidInput
from promoflow.planning.allocation_model import Pairs, build_segments, solve
from promoflow.planning.demand import fit_window_demand, stock_outcomes
from promoflow.planning.frames import (
    case_packs,
    forecast_spread,
    numbers,
    require_columns,
    unique_keys,
)

KEY = ("item_id", "location_id")
# demand: one row per SKU x store; `available` (optional, default 0) is stock the store
# already has for the window.
DEMAND_COLUMNS = (*KEY, "promoted_units", "p10", "p90")
DC_STOCK_COLUMNS = ("item_id", "available", "case_pack")  # units the DC can allocate
STORE_COLUMNS = ("location_id", "capacity_units", "transfer_cost_per_unit")  # room to receive
# Above this many model columns the MIP gives way to the LP with a rounding repair.
MIP_MAX_COLUMNS = 5_000


@dataclass(frozen=True)
class AllocationSummary:
    """How the plan was found and what it is worth.

    `objective` is expected filled demand minus transfer cost under the piecewise-linear
    model; `bound` is the LP (or MIP) bound on it; `gap` is (bound − objective) relative
    to what the allocation adds beyond the stores' own stock, so that stock cannot
    flatter it. `method` is "mip" or "lp_rounded".
    """

    status: str
    method: str
    objective: float
    bound: float
    gap: float
    seconds: float
    packs: int
    units: float
    transfer_cost: float
    expected_filled_units: float
    expected_demand_units: float


@dataclass(frozen=True)
class AllocationPlan:
    """Lines per SKU x store (the demand frame's rows, in order) and the summary."""

    lines: pl.DataFrame
    summary: AllocationSummary


def allocate_dc_stock(
    demand: pl.DataFrame,
    dc_stock: pl.DataFrame,
    stores: pl.DataFrame,
    *,
    mip_max_columns: int = MIP_MAX_COLUMNS,
    time_limit_seconds: float = 25.0,
) -> AllocationPlan:
    """Whole case packs per SKU x store that maximise expected filled demand − transfer cost."""
    pairs, dc_units, capacity = _pairs(demand, dc_stock, stores)
    segments = build_segments(pairs)
    solution = solve(
        pairs,
        segments,
        dc_units,
        capacity,
        mip_max_columns=mip_max_columns,
        time_limit_seconds=time_limit_seconds,
    )
    packs = np.bincount(segments.pair, weights=solution.packs, minlength=pairs.sku.size)
    units = packs * pairs.case_pack
    _, filled = stock_outcomes(pairs.demand, pairs.on_hand + units)
    mean = pairs.demand.mean
    cost = units * pairs.cost_per_unit
    with np.errstate(divide="ignore", invalid="ignore"):
        service = np.where(mean > 0, filled / mean, 1.0)
    lines = demand.select(*KEY).with_columns(
        pl.Series("packs", packs.astype(np.int64)),
        pl.Series("units", units),
        pl.Series("transfer_cost", cost),
        pl.Series("expected_filled_units", filled),
        pl.Series("expected_demand_units", mean),
        pl.Series("expected_service_level", service),
    )
    added_bound = solution.bound
    gap = (added_bound - solution.objective) / abs(added_bound) if added_bound else 0.0
    summary = AllocationSummary(
        status=solution.status,
        method=solution.method,
        objective=segments.base_sales + solution.objective,
        bound=segments.base_sales + added_bound,
        gap=max(gap, 0.0) if np.isfinite(gap) else float("nan"),
        seconds=solution.seconds,
        packs=int(packs.sum()),
        units=float(units.sum()),
        transfer_cost=float(cost.sum()),
        expected_filled_units=float(filled.sum()),
        expected_demand_units=float(mean.sum()),
    )
    return AllocationPlan(lines=lines, summary=summary)


def _pairs(
    demand: pl.DataFrame, dc_stock: pl.DataFrame, stores: pl.DataFrame
) -> tuple[Pairs, np.ndarray, np.ndarray]:
    """Validate the three frames and line each SKU x store row up with its SKU and store."""
    require_columns(demand, DEMAND_COLUMNS, "allocation demand")
    require_columns(dc_stock, DC_STOCK_COLUMNS, "DC stock")
    require_columns(stores, STORE_COLUMNS, "store list")
    unique_keys(demand, KEY, "allocation demand")
    unique_keys(dc_stock, ("item_id",), "DC stock")
    unique_keys(stores, ("location_id",), "store list")
    dc_units = numbers(dc_stock, "available", "DC stock", key=("item_id",))
    case_pack = case_packs(dc_stock, "DC stock", ("item_id",))
    capacity = numbers(stores, "capacity_units", "store list", key=("location_id",))
    cost = numbers(stores, "transfer_cost_per_unit", "store list", key=("location_id",))
    mean, p10, p90 = forecast_spread(demand, "allocation demand", KEY)
    on_hand = (
        numbers(demand, "available", "allocation demand", key=KEY)
        if "available" in demand.columns
        else np.zeros(demand.height)
    )
    sku = _index(demand, dc_stock, "item_id", "has demand but no DC stock row")
    store = _index(demand, stores, "location_id", "has demand but is not in the store list")
    pairs = Pairs(
        sku=sku,
        store=store,
        demand=fit_window_demand(mean, p10, p90),
        on_hand=on_hand,
        case_pack=case_pack[sku],
        cost_per_unit=cost[store],
        p90=p90,
    )
    return pairs, dc_units, capacity


def _index(demand: pl.DataFrame, lookup: pl.DataFrame, column: str, reason: str) -> np.ndarray:
    """Row numbers in `lookup` of each demand row's `column` value."""
    positions = demand.select(column).join(
        lookup.select(column).with_row_index("_row"), on=column, how="left", maintain_order="left"
    )["_row"]
    if positions.null_count():
        row = int(positions.is_null().arg_true()[0])
        raise InvalidInput(column, demand[column][row], reason)
    return positions.to_numpy().astype(np.int64)

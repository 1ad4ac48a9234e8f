"""The allocation LP solved by sifting: estimated prices fix most columns, HiGHS the rest.

The LP (in units) maximises Σ w·x over segment columns 0 ≤ x ≤ U with one row per SKU
(DC stock) and one per store (receiving capacity). At 500 SKUs x 1,000 stores it has
over a million columns, and HiGHS's dual simplex spends most of 15–20 s pricing columns
whose fate is obvious: at the optimum a column is full when its value per unit beats
its SKU's price plus its store's price, and empty when it falls short. So:

1. estimate the prices by Lagrangian coordinate descent: each SKU's price clears its
   DC stock given the store prices, each store's clears its capacity given the SKU
   prices (exact one-dimensional minimisations, a sort each);
2. fix clearly full and clearly empty columns, and let HiGHS solve the LP on the few
   near the margin (tens of thousands) with what the full ones leave of each row;
3. price every column with HiGHS's duals; any fixed column on the wrong side joins
   the margin, and we solve again. When none is wrong, primal and dual feasibility of
   the whole LP are both checked: the answer is the LP optimum, not an estimate.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import highspy
import numpy as np

from promoflow.planning.solver import silent_highs

PRICE_SWEEPS = 4  # coordinate descent sweeps; the dual is within ~1e-5 after four
MARGIN = 0.01  # per-unit value band around the estimated prices that HiGHS decides
TOLERANCE = 1e-9
MAX_ROUNDS = 30
AT_ZERO, ON_MARGIN, AT_UPPER = 0, 1, 2


@dataclass(frozen=True)
class LpResult:
    """Units per column, the LP objective (a bound on any whole-pack plan), status."""

    units: np.ndarray
    bound: float
    status: str
    rounds: int


def solve_allocation_lp(
    value: np.ndarray,
    upper: np.ndarray,
    sku: np.ndarray,
    store: np.ndarray,
    dc_units: np.ndarray,
    store_capacity: np.ndarray,
    *,
    time_limit_seconds: float,
) -> LpResult:
    """Maximise Σ value·x, 0 ≤ x ≤ upper, per-SKU and per-store sums within their limits."""
    deadline = time.perf_counter() + time_limit_seconds
    sku_price, store_price = estimate_prices(value, upper, sku, store, dc_units, store_capacity)
    reduced = value - sku_price[sku] - store_price[store]
    state = np.where(reduced > MARGIN, AT_UPPER, np.where(reduced < -MARGIN, AT_ZERO, ON_MARGIN))
    units = np.zeros_like(value)
    for rounds in range(1, MAX_ROUNDS + 1):
        _free_overfull_rows(state, upper, sku, store, dc_units, store_capacity)
        full = state == AT_UPPER
        margin = np.flatnonzero(state == ON_MARGIN)
        dc_left = dc_units - np.bincount(sku, upper * full, dc_units.size)
        store_left = store_capacity - np.bincount(store, upper * full, store_capacity.size)
        highs = transport_model(
            value[margin],
            upper[margin],
            sku[margin],
            store[margin],
            np.ones(margin.size),
            dc_left,
            store_left,
        )
        highs.setOptionValue("time_limit", max(deadline - time.perf_counter(), 0.1))
        highs.run()
        status = highs.modelStatusToString(highs.getModelStatus())
        if highs.getModelStatus() != highspy.HighsModelStatus.kOptimal:
            # Only the fixed columns are surely feasible; the bound is unknown.
            return LpResult(np.where(full, upper, 0.0), float("nan"), status, rounds)
        solution = highs.getSolution()
        units = np.where(full, upper, 0.0)
        units[margin] = np.clip(np.asarray(solution.col_value), 0.0, upper[margin])
        duals = np.asarray(solution.row_dual)
        reduced = value - duals[sku] - duals[dc_units.size + store]
        wrong = ((state == AT_UPPER) & (reduced < -TOLERANCE)) | (
            (state == AT_ZERO) & (reduced > TOLERANCE)
        )
        if not wrong.any():
            return LpResult(units, float(value @ units), status, rounds)
        state[wrong] = ON_MARGIN
    return LpResult(units, float("nan"), "Sifting round limit", MAX_ROUNDS)


def estimate_prices(
    value: np.ndarray,
    upper: np.ndarray,
    sku: np.ndarray,
    store: np.ndarray,
    dc_units: np.ndarray,
    store_capacity: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Per-unit prices of DC stock and store capacity by Lagrangian coordinate descent."""
    sku_price = np.zeros(dc_units.size)
    store_price = np.zeros(store_capacity.size)
    for _ in range(PRICE_SWEEPS):
        sku_price = clearing_prices(sku, value - store_price[store], upper, dc_units)
        store_price = clearing_prices(store, value - sku_price[sku], upper, store_capacity)
    return sku_price, store_price


def clearing_prices(
    group: np.ndarray, value: np.ndarray, upper: np.ndarray, supply: np.ndarray
) -> np.ndarray:
    """Per group, the least price ≥ 0 at which the columns worth more fit the supply."""
    span = float(value.max() - value.min()) + 1.0 if value.size else 1.0
    # One float sort: by group, then by value descending within the group.
    order = np.argsort(group * span + (value.max(initial=0.0) - value))
    ordered_group, ordered_value = group[order], value[order]
    cumulative = np.cumsum(upper[order])
    starts = np.searchsorted(ordered_group, np.arange(supply.size))
    before = np.where(starts > 0, cumulative[np.maximum(starts - 1, 0)], 0.0)
    over = np.flatnonzero(cumulative - before[ordered_group] > supply[ordered_group] + TOLERANCE)
    # The first column of a group past its supply sets the group's price.
    over_group = ordered_group[over]
    first = np.flatnonzero(np.diff(over_group, prepend=-1) != 0)
    prices = np.zeros(supply.size)
    prices[over_group[first]] = np.maximum(ordered_value[over[first]], 0.0)
    return prices


def _free_overfull_rows(
    state: np.ndarray,
    upper: np.ndarray,
    sku: np.ndarray,
    store: np.ndarray,
    dc_units: np.ndarray,
    store_capacity: np.ndarray,
) -> None:
    """Put full columns of any row they overfill back on the margin (keeps rows feasible)."""
    full = state == AT_UPPER
    dc_over = np.bincount(sku, upper * full, dc_units.size) > dc_units + TOLERANCE
    store_over = np.bincount(store, upper * full, store_capacity.size) > store_capacity + TOLERANCE
    state[full & (dc_over[sku] | store_over[store])] = ON_MARGIN


def transport_model(
    value: np.ndarray,
    upper: np.ndarray,
    sku: np.ndarray,
    store: np.ndarray,
    coefficient: np.ndarray,
    dc_limit: np.ndarray,
    store_limit: np.ndarray,
    *,
    integer: bool = False,
) -> highspy.Highs:
    """A HiGHS model maximising value·x: each column uses its SKU's row and its store's."""
    cols, rows = value.size, dc_limit.size + store_limit.size
    index = np.empty(2 * cols, dtype=np.int32)
    index[0::2], index[1::2] = sku, dc_limit.size + store
    highs = silent_highs()
    highs.passModel(
        cols,
        rows,
        2 * cols,
        1,  # column-wise matrix
        -1,  # maximise
        0.0,
        value.astype(np.float64),
        np.zeros(cols),
        upper.astype(np.float64),
        np.full(rows, -highspy.kHighsInf),
        np.maximum(np.concatenate([dc_limit, store_limit]), 0.0).astype(np.float64),
        np.arange(0, 2 * cols, 2, dtype=np.int32),
        index,
        np.repeat(coefficient, 2).astype(np.float64),
        np.full(cols, 1 if integer else 0, dtype=np.int32),
    )
    return highs

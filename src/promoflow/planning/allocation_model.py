"""The DC-to-store allocation model: piecewise-linear expected sales, solved by HiGHS.

Expected sales E[min(D, stock)] is concave in stock, so it is modelled by segments
between breakpoints (a few quantiles of the store's window demand, placed on whole
case packs). Segment k of SKU i at store j is a column s (packs on that segment,
0 ≤ s ≤ its length) worth its chord slope minus the transfer cost per pack. Concavity
makes the segments fill in order without extra constraints, and leaves only two kinds
of rows: DC stock per SKU and receiving capacity per store.

With so few rows, a basic optimal LP solution has at most (SKUs + stores) columns off
their bounds, and every bound is a whole number of packs; so for large instances the LP
relaxation (`allocation_lp`), rounded down and topped up greedily, is within a few packs
per row of the integer optimum, and the LP objective bounds the gap. Small instances are
solved as a MIP (each s integer), where HiGHS proves optimality itself.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import highspy
import numpy as np

from promoflow.planning.allocation_lp import solve_allocation_lp, transport_model
from promoflow.planning.demand import WindowDemand, approximate_quantile, stock_outcomes

# Demand quantiles that place the breakpoints; the last is rounded up to a whole pack,
# so a store always has a segment that covers its plausible demand.
BREAKPOINT_LEVELS = (0.1, 0.25, 0.5, 0.75, 0.9, 0.97, 0.995)
COVER_LEVEL = BREAKPOINT_LEVELS.index(0.9)  # the coverage gate's quantile
COVER_VALUE = 1e-6  # per pack: above nothing, below any pack that sells
CHUNK_PAIRS = 65_536


@dataclass(frozen=True)
class Pairs:
    """SKU x store rows with their indices into the SKU and store arrays."""

    sku: np.ndarray  # index into the SKU arrays
    store: np.ndarray  # index into the store arrays
    demand: WindowDemand
    on_hand: np.ndarray  # units the store already has for the window
    case_pack: np.ndarray  # units per pack of the row's SKU
    cost_per_unit: np.ndarray  # transfer cost of the row's store
    # The forecast's own P90 of window demand: the launch gate checks coverage
    # against it, so the P90 breakpoint never falls short of it (None: the fit's).
    p90: np.ndarray | None = None


@dataclass(frozen=True)
class Segments:
    """Model columns: one per pair x segment with a positive value per pack."""

    pair: np.ndarray
    length: np.ndarray  # packs
    value_per_pack: np.ndarray  # chord slope x case pack − transfer cost per pack
    base_sales: float  # expected sales from the stores' own stock (no allocation)


@dataclass(frozen=True)
class Solution:
    """Packs per column, the model objective, its bound and how it was found."""

    packs: np.ndarray
    objective: float
    bound: float
    status: str
    method: str
    seconds: float


def build_segments(pairs: Pairs) -> Segments:
    """Breakpoints on whole packs, their exact expected sales, and the chords between."""
    # Blocks of pairs bound the temporaries (levels x pairs of them) to tens of MB.
    parts = [
        _segments(pairs, slice(start, start + CHUNK_PAIRS))
        for start in range(0, max(pairs.sku.size, 1), CHUNK_PAIRS)
    ]
    return Segments(
        pair=np.concatenate([part.pair for part in parts]),
        length=np.concatenate([part.length for part in parts]),
        value_per_pack=np.concatenate([part.value_per_pack for part in parts]),
        base_sales=sum(part.base_sales for part in parts),
    )


def _segments(pairs: Pairs, rows: slice) -> Segments:
    """The segments of one block of pairs."""
    demand = WindowDemand(pairs.demand.mean[rows], pairs.demand.variance[rows])
    on_hand, pack = pairs.on_hand[rows, None], pairs.case_pack[rows, None]
    quantiles = np.stack([approximate_quantile(demand, level) for level in BREAKPOINT_LEVELS], 1)
    need = np.maximum(quantiles - on_hand, 0.0) / pack
    nearest = np.round(need)
    if pairs.p90 is not None:
        # Rounded to the nearest pack (or placed on the fitted distribution's P90,
        # a little below the forecast's), this breakpoint left stores at 0.99x the
        # P90 the coverage gate reads, and the workflow's own launch waiting at it.
        cover = np.maximum(pairs.p90[rows, None] - on_hand, 0.0) / pack
        nearest[:, COVER_LEVEL] = np.ceil(np.maximum(need[:, COVER_LEVEL], cover[:, 0]) - 1e-9)
    packs = np.concatenate(
        [np.zeros((need.shape[0], 1)), nearest[:, :-1], np.ceil(need[:, -1:])], axis=1
    )
    packs = np.maximum.accumulate(packs, axis=1)
    levels = packs.shape[1]
    stock = on_hand + packs * pack
    repeated = WindowDemand(np.repeat(demand.mean, levels), np.repeat(demand.variance, levels))
    _, sales = stock_outcomes(repeated, stock.ravel())
    sales = sales.reshape(stock.shape)
    length = np.diff(packs, axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        value = np.diff(sales, axis=1) / length - pack * pairs.cost_per_unit[rows, None]
    if pairs.p90 is not None:
        # Up to the P90 the gate reads, a pack is worth at least COVER_VALUE: where the
        # DC has the stock, coverage is the policy's requirement, not a trade-off
        # (the last pack to the P90 can sell less than it costs to move), unless
        # moving a unit costs more than selling it earns (a filled unit is worth 1).
        covered = value[:, : COVER_LEVEL + 1]
        worth_moving = pairs.cost_per_unit[rows, None] < 1.0
        value[:, : COVER_LEVEL + 1] = np.where(
            worth_moving, np.maximum(covered, COVER_VALUE), covered
        )
    keep = (length > 0) & (value > 1e-9)
    pair = np.broadcast_to(np.arange(rows.start, rows.start + length.shape[0])[:, None], keep.shape)
    return Segments(
        pair=pair[keep],
        length=length[keep],
        value_per_pack=value[keep],
        base_sales=float(sales[:, 0].sum()),
    )


def solve(
    pairs: Pairs,
    segments: Segments,
    dc_units: np.ndarray,
    store_capacity: np.ndarray,
    *,
    mip_max_columns: int,
    time_limit_seconds: float,
) -> Solution:
    """Solve as a MIP when small, else the LP (by sifting) with a rounding repair."""
    began = time.perf_counter()
    sku, store = pairs.sku[segments.pair], pairs.store[segments.pair]
    units = pairs.case_pack[segments.pair]
    if segments.pair.size <= mip_max_columns:
        highs = transport_model(
            segments.value_per_pack,
            segments.length,
            sku,
            store,
            units,
            dc_units,
            store_capacity,
            integer=True,
        )
        highs.setOptionValue("time_limit", float(time_limit_seconds))
        highs.setOptionValue("mip_rel_gap", 1e-6)
        highs.run()
        status = highs.modelStatusToString(highs.getModelStatus())
        feasible = highspy.SolutionStatus.kSolutionStatusFeasible
        solved = highs.getInfo().primal_solution_status == feasible
        values = np.asarray(highs.getSolution().col_value) if solved else np.zeros(units.size)
        packs = np.round(values).astype(np.int64)
        bound = float(highs.getInfo().mip_dual_bound) if segments.pair.size else 0.0
        method = "mip"
    else:
        lp = solve_allocation_lp(
            segments.value_per_pack / units,
            segments.length * units,
            sku,
            store,
            dc_units,
            store_capacity,
            time_limit_seconds=time_limit_seconds,
        )
        packs = _round_down(lp.units / units, sku, store, units, dc_units, store_capacity)
        packs = _top_up(packs, segments, sku, store, units, dc_units, store_capacity)
        status, bound, method = lp.status, lp.bound, "lp_rounded"
    return Solution(
        packs=packs,
        objective=float(packs @ segments.value_per_pack),
        bound=bound,
        status=status,
        method=method,
        seconds=time.perf_counter() - began,
    )


def _usage(packs: np.ndarray, index: np.ndarray, units: np.ndarray, size: int) -> np.ndarray:
    return np.bincount(index, weights=packs * units, minlength=size)


def _round_down(
    values: np.ndarray,
    sku: np.ndarray,
    store: np.ndarray,
    units: np.ndarray,
    dc_units: np.ndarray,
    store_capacity: np.ndarray,
) -> np.ndarray:
    """Whole packs at or below the LP's; a solver's 2.9999999 counts as 3 if it fits."""
    packs = np.floor(values + 1e-7).astype(np.int64)
    fits = (_usage(packs, sku, units, dc_units.size) <= dc_units + 1e-9).all() and (
        _usage(packs, store, units, store_capacity.size) <= store_capacity + 1e-9
    ).all()
    return packs if fits else np.floor(values).astype(np.int64)


def _top_up(
    packs: np.ndarray,
    segments: Segments,
    sku: np.ndarray,
    store: np.ndarray,
    units: np.ndarray,
    dc_units: np.ndarray,
    store_capacity: np.ndarray,
) -> np.ndarray:
    """Spend what rounding freed on the best remaining packs, best value first."""
    dc_left = dc_units - _usage(packs, sku, units, dc_units.size)
    store_left = store_capacity - _usage(packs, store, units, store_capacity.size)
    room = segments.length.astype(np.int64) - packs
    candidate = (room > 0) & (dc_left[sku] >= units) & (store_left[store] >= units)
    # Best value per unit first: DC stock and store room are both counted in units.
    # One pass suffices: adding packs only shrinks what is left, so a column that did
    # not fit earlier never fits later. Within a pair the better segment comes first.
    per_unit = segments.value_per_pack[candidate] / units[candidate]
    for col in np.flatnonzero(candidate)[np.argsort(-per_unit, kind="stable")]:
        i, j, size = sku[col], store[col], units[col]
        extra = int(min(room[col], dc_left[i] // size, store_left[j] // size))
        if extra > 0:
            packs[col] += extra
            dc_left[i] -= extra * size
            store_left[j] -= extra * size
    return packs

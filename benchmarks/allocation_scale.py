"""Seconds, objective and gap of `allocate_dc_stock` on 500 SKUs x 1,000 stores.

    uv run python benchmarks/allocation_scale.py [--items 500] [--stores 1000] [--runs 3]

Synthetic, in memory: over-dispersed window demand per SKU x store, DC stock short of
demand for most SKUs, receiving capacity that binds in about a third of the stores,
case packs of 1 to 24. Target: under 30 s on a 2-core machine.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import statistics
import time

import highspy
import numpy as np
import polars as pl

from promoflow.planning.allocation import AllocationPlan, allocate_dc_stock


def synthetic(n_items: int, n_stores: int, seed: int = 11) -> tuple[pl.DataFrame, ...]:
    """Demand, DC stock and stores for one DC."""
    rng = np.random.default_rng(seed)
    sku = np.repeat(np.arange(1, n_items + 1), n_stores)
    store = np.tile(np.arange(1, n_stores + 1), n_items)
    mean = rng.gamma(1.5, 4.0, n_items)[sku - 1] * rng.uniform(0.3, 2.0, n_stores)[store - 1]
    spread = 2 * 1.2816 * np.sqrt(mean * rng.uniform(1.0, 4.0, mean.size))
    p10 = np.maximum(mean - spread / 2, 0.0)
    demand = pl.DataFrame(
        {
            "item_id": sku,
            "location_id": store,
            "promoted_units": mean,
            "p10": p10,
            "p90": p10 + spread,
            "available": np.floor(rng.uniform(0.0, 0.3, mean.size) * mean),
        }
    )
    by_item = np.bincount(sku - 1, weights=mean)
    dc_stock = pl.DataFrame(
        {
            "item_id": np.arange(1, n_items + 1),
            "available": np.floor(by_item * rng.uniform(0.5, 1.3, n_items)),
            "case_pack": rng.choice([1, 4, 6, 12, 24], n_items),
        }
    )
    by_store = np.bincount(store - 1, weights=mean)
    stores = pl.DataFrame(
        {
            "location_id": np.arange(1, n_stores + 1),
            "capacity_units": np.floor(by_store * rng.uniform(0.6, 1.5, n_stores)),
            "transfer_cost_per_unit": rng.uniform(0.01, 0.05, n_stores),
        }
    )
    return demand, dc_stock, stores


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=500)
    parser.add_argument("--stores", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    demand, dc_stock, stores = synthetic(args.items, args.stores)
    timings: list[float] = []
    cpu: list[float] = []
    plan: AllocationPlan | None = None
    for _ in range(args.runs):
        started, started_cpu = time.perf_counter(), time.process_time()
        plan = allocate_dc_stock(demand, dc_stock, stores)
        timings.append(time.perf_counter() - started)
        cpu.append(time.process_time() - started_cpu)
    assert plan is not None
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    summary = plan.summary
    used = (
        plan.lines.group_by("location_id").agg(pl.col("units").sum()).join(stores, on="location_id")
    )
    full = int((used["units"] > used["capacity_units"] - 24).sum())
    print(
        f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}, HiGHS {highspy.Highs().version()}"
    )
    print(f"SKU x store rows: {demand.height:,} ({args.items:,} SKUs x {args.stores:,} stores)")
    print(
        f"allocate_dc_stock: median {statistics.median(timings):.2f} s, "
        f"best {min(timings):.2f} s over {args.runs} runs "
        f"(solve and repair {summary.seconds:.2f} s); CPU time median "
        f"{statistics.median(cpu):.2f} s (load average {os.getloadavg()[0]:.1f}); "
        f"peak RSS {peak_mib:.0f} MiB"
    )
    print(
        f"status {summary.status}, method {summary.method}, objective {summary.objective:,.1f}, "
        f"bound {summary.bound:,.1f}, gap {summary.gap:.4%}"
    )
    print(
        f"packs {summary.packs:,}, units {summary.units:,.0f} "
        f"of {dc_stock['available'].sum():,.0f} at the DC; "
        f"{full} of {args.stores} stores within a pack of full; expected fill "
        f"{summary.expected_filled_units:,.0f} of {summary.expected_demand_units:,.0f} units "
        f"({summary.expected_filled_units / summary.expected_demand_units:.1%})"
    )


if __name__ == "__main__":
    main()

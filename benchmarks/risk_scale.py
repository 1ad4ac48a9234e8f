"""Time and peak memory of `assess_stockout_risk` + `summarise_risk` on 1M item-locations.

    uv run python benchmarks/risk_scale.py [--items 1000] [--stores 1000] [--runs 7]

Synthetic, in memory: 1,000 SKUs x 1,000 stores, over-dispersed window demand (a fifth
of rows at or below Poisson spread), stock around demand. Target: well under 1 s.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import statistics
import time

import numpy as np
import polars as pl

from promoflow.planning.risk import assess_stockout_risk, summarise_risk


def synthetic(n_items: int, n_stores: int, seed: int = 7) -> pl.DataFrame:
    """Risk inputs for every item x store, with region and category to roll up by."""
    rng = np.random.default_rng(seed)
    n = n_items * n_stores
    mean = rng.gamma(2.0, 6.0, n)
    dispersion = np.where(rng.random(n) < 0.2, rng.uniform(0.5, 1.0, n), rng.uniform(1.0, 5.0, n))
    spread = 2 * 1.2816 * np.sqrt(mean * dispersion)
    p10 = np.maximum(mean - spread / 2, 0.0)
    return pl.DataFrame(
        {
            "item_id": np.repeat(np.arange(1, n_items + 1), n_stores),
            "location_id": np.tile(np.arange(1, n_stores + 1), n_items),
            "promoted_units": mean,
            "p10": p10,
            "p50": mean,
            "p90": p10 + spread,
            "on_hand": np.floor(mean * rng.uniform(0.3, 1.5, n)),
            "on_order_due": rng.poisson(1.0, n).astype(float),
            "allocated": rng.poisson(0.5, n).astype(float),
            "baseline_weekly_units": mean / rng.uniform(1.5, 4.0, n),
            "region": np.tile(rng.choice(["north", "south", "east", "west"], n_stores), n_items),
            "category": np.repeat(
                rng.choice([f"cat-{k:02d}" for k in range(20)], n_items), n_stores
            ),
        }
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=1000)
    parser.add_argument("--stores", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    positions = synthetic(args.items, args.stores)
    inputs_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    assess, assess_cpu, roll_up = [], [], []
    for _ in range(args.runs):
        started, started_cpu = time.perf_counter(), time.process_time()
        risk = assess_stockout_risk(positions)
        middle = time.perf_counter()
        assess_cpu.append(time.process_time() - started_cpu)
        by_region = summarise_risk(risk, ["region"])
        summarise_risk(risk, ["category"])
        assess.append(middle - started)
        roll_up.append(time.perf_counter() - middle)
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}, Polars {pl.__version__}, NumPy {np.__version__}"
    )
    print(f"item-locations: {positions.height:,} ({args.items:,} SKUs x {args.stores:,} stores)")
    print(
        f"assess_stockout_risk: median {statistics.median(assess) * 1000:.0f} ms, "
        f"best {min(assess) * 1000:.0f} ms over {args.runs} runs; CPU time median "
        f"{statistics.median(assess_cpu) * 1000:.0f} ms (load average {os.getloadavg()[0]:.1f})"
    )
    print(
        f"summarise_risk by region + by category: median "
        f"{statistics.median(roll_up) * 1000:.0f} ms, best {min(roll_up) * 1000:.0f} ms"
    )
    print(f"peak RSS {peak_mib:.0f} MiB ({peak_mib - inputs_mib:.0f} MiB above the inputs)")
    with pl.Config(tbl_cols=-1, tbl_width_chars=160, float_precision=3):
        print(by_region.drop("expected_demand_units"))


if __name__ == "__main__":
    main()

"""Time `evaluate` on synthetic gate inputs: 1,000 SKUs x 1,000 stores (1M item-locations).

    uv run python benchmarks/gate_evaluation.py [--items 1000] [--stores 1000] [--runs 7]

Builds the inputs in memory (no database), runs every gate `--runs` times and prints
the median and best wall time. Target: under 1 s on a 2-core machine. The stock gates
run the planning risk model (stockout probability per item-location) inside `evaluate`.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time
from datetime import UTC, date, datetime, timedelta

import numpy as np
import polars as pl

from promoflow.gates.evaluate import evaluate
from promoflow.gates.inputs import GateInputs
from promoflow.gates.policy import load_gate_policy


def synthetic_inputs(n_items: int, n_stores: int, seed: int = 7) -> GateInputs:
    """A promotion over every item x store with realistic gaps in every gate."""
    rng = np.random.default_rng(seed)
    n = n_items * n_stores
    item_ids = np.arange(1, n_items + 1)
    store_ids = np.arange(1, n_stores + 1)
    mean = rng.gamma(2.0, 4.5, n)
    # Over-dispersed window demand for most rows, a fifth at or below Poisson spread.
    dispersion = np.where(rng.random(n) < 0.2, rng.uniform(0.5, 1.0, n), rng.uniform(1.0, 4.0, n))
    spread = 2 * 1.2816 * np.sqrt(mean * dispersion)
    p10 = np.maximum(mean - spread / 2, 0.0)
    upper = p10 + spread
    coverage = pl.DataFrame(
        {
            "item_id": np.repeat(item_ids, n_stores),
            "location_id": np.tile(store_ids, n_items),
            "upper_quantile_units": upper,
            "promoted_units": mean,
            "p10": p10,
            "p90": upper,
            "baseline_units": mean / rng.uniform(1.2, 2.5, n),
            "on_hand": np.floor(upper * rng.uniform(0.4, 1.6, n)),
            "in_transit": rng.poisson(1.0, n).astype(float),
            "on_order_before_start": rng.poisson(2.0, n).astype(float),
            "allocated": rng.poisson(0.5, n).astype(float),
        }
    )
    items = pl.DataFrame(
        {
            "item_id": item_ids,
            "sku": [f"SKU-{i:05d}" for i in item_ids],
            "category": [f"category-{i % 40:02d}" for i in item_ids],
            "promo_price": np.round(rng.uniform(1.0, 20.0, n_items), 2),
        }
    ).with_columns(unit_cost=(pl.col("promo_price") * rng.uniform(0.5, 1.05, n_items)).round(2))
    regions = ("north", "south", "east", "west", "central")
    locations = pl.DataFrame(
        {
            "location_id": store_ids,
            "code": [f"ST-{j:04d}" for j in store_ids],
            "region": [regions[j % len(regions)] for j in store_ids],
        }
    )
    forecast_models = pl.DataFrame(
        {"model_version": ["lightgbm-2026.11"], "inputs_hash": ["ab" * 32], "lines": [n]}
    )
    as_of = datetime(2026, 3, 1, 9, tzinfo=UTC)
    n_po, per_po = 50, 20
    ack_status = np.repeat(rng.choice(["acknowledged", "partial", "pending"], n_po), per_po)
    due_hours = np.repeat(rng.integers(-48, 48, n_po), per_po)
    purchase_orders = pl.DataFrame(
        {
            "po_number": np.repeat([f"PO-{k:05d}" for k in range(n_po)], per_po),
            "supplier": np.repeat([f"SUP-{k % 7:03d}" for k in range(n_po)], per_po),
            "supplier_id": np.repeat([k % 7 for k in range(n_po)], per_po),
            "due_date": [
                date(2026, 3, 9) - timedelta(days=int(d))
                for d in np.repeat(rng.integers(0, 8, n_po), per_po)
            ],
            "ack_status": ack_status,
            "ack_due_at": [as_of + timedelta(hours=int(h)) for h in due_hours],
            "acknowledged_at": [
                None if status == "pending" else as_of - timedelta(hours=1) for status in ack_status
            ],
            "item_id": rng.choice(item_ids, n_po * per_po),
            "quantity": np.full(n_po * per_po, 500.0),
            "confirmed_quantity": np.full(n_po * per_po, 450.0),
        },
        schema_overrides={
            "ack_due_at": pl.Datetime("us", "UTC"),
            "acknowledged_at": pl.Datetime("us", "UTC"),
        },
    )
    supplier_history = _supplier_history(rng, n_suppliers=40, per_supplier=50, as_of=as_of)
    regular = np.round(rng.uniform(2.0, 30.0, n_items), 2)
    web = np.where(rng.random(n_items) < 0.01, regular + 0.5, regular)
    prices = pl.DataFrame(
        {
            "item_id": np.concatenate([item_ids, item_ids]),
            "zone": ["national"] * (2 * n_items),
            "channel": ["pos"] * n_items + ["ecommerce"] * n_items,
            "regular_price": np.concatenate([regular, web]),
        }
    )
    published = prices.join(items, on="item_id").select(
        "item_id", "channel", pl.col("promo_price").alias("amount")
    )
    overlaps = pl.DataFrame(
        {
            "other_code": ["PRM-00002"] * 500,
            "item_id": np.repeat(item_ids[:5], 100),
            "location_id": np.tile(store_ids[:100], 5),
        }
    )
    approvals = pl.DataFrame(
        {
            "role": ["category_manager", "finance_approver", "pricing_analyst"],
            "status": ["approved", "approved", "pending"],
        }
    )
    store_tasks = pl.DataFrame(
        {
            "location_id": np.repeat(store_ids, 2),
            "kind": ["signage", "display"] * n_stores,
            "status": rng.choice(["confirmed", "open"], 2 * n_stores, p=[0.93, 0.07]),
        }
    )
    ranged_web = (rng.random(n_items) > 0.002).astype(np.int64)
    channel_ranging = pl.DataFrame(
        {
            "item_id": np.concatenate([item_ids, item_ids]),
            "channel": ["pos"] * n_items + ["ecommerce"] * n_items,
            "ranged_locations": np.concatenate([np.full(n_items, n_stores), ranged_web]),
            "channel_locations": np.concatenate(
                [np.full(n_items, n_stores), np.ones(n_items, np.int64)]
            ),
        }
    )
    return GateInputs(
        promotion_id=1,
        revision=1,
        promotion_code="PRM-00001",
        start=date(2026, 3, 9),
        end=date(2026, 3, 22),
        channels=("pos", "ecommerce"),
        as_of=as_of,
        quantile="p90",
        forecast_available=True,
        below_cost_approved=False,
        items=items,
        locations=locations,
        coverage=coverage,
        forecast_models=forecast_models,
        purchase_orders=purchase_orders,
        supplier_history=supplier_history,
        prices=prices,
        published_prices=published,
        overlaps=overlaps,
        approvals=approvals,
        store_tasks=store_tasks,
        channel_ranging=channel_ranging,
    )


def _supplier_history(
    rng: np.random.Generator, n_suppliers: int, per_supplier: int, as_of: datetime
) -> pl.DataFrame:
    """A year of purchase orders per supplier: lead times and fill vary by supplier."""
    n = n_suppliers * per_supplier
    supplier = np.repeat(np.arange(n_suppliers), per_supplier)
    ordered = [as_of - timedelta(days=int(d)) for d in rng.integers(20, 360, n)]
    lead_days = rng.normal(10 + supplier % 5, 1 + supplier % 4, n).clip(1, None)
    quantity = rng.integers(100, 2000, n).astype(float)
    return pl.DataFrame(
        {
            "supplier_id": supplier,
            "status": ["received"] * n,
            "ordered_at": ordered,
            "due_date": [o.date() + timedelta(days=12) for o in ordered],
            "received_at": [
                o + timedelta(days=float(d)) for o, d in zip(ordered, lead_days, strict=True)
            ],
            "quantity": quantity,
            "received_quantity": np.floor(quantity * rng.uniform(0.8, 1.0, n)),
        },
        schema_overrides={
            "ordered_at": pl.Datetime("us", "UTC"),
            "received_at": pl.Datetime("us", "UTC"),
        },
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=1000)
    parser.add_argument("--stores", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    policy = load_gate_policy()
    started = time.perf_counter()
    inputs = synthetic_inputs(args.items, args.stores)
    built = time.perf_counter() - started
    evaluate(inputs, policy)  # warm-up: first calls compile Polars plans
    timings = []
    for _ in range(args.runs):
        started = time.perf_counter()
        outcomes = evaluate(inputs, policy)
        timings.append(time.perf_counter() - started)
    print(
        f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}, Polars {pl.__version__}"
    )
    print(
        f"item-locations: {inputs.coverage.height:,} ({args.items:,} SKUs x "
        f"{args.stores:,} stores); inputs built in {built:.2f} s"
    )
    print(
        f"evaluate: median {statistics.median(timings) * 1000:.0f} ms, "
        f"best {min(timings) * 1000:.0f} ms over {args.runs} runs"
    )
    for outcome in outcomes:
        print(f"  {outcome.gate:<22} {outcome.status:<5} {outcome.summary}")


if __name__ == "__main__":
    main()

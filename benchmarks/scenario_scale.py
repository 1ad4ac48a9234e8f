"""Seconds and peak memory to seed a retailer of a given size.

    uv run python benchmarks/scenario_scale.py --stores 200 --skus 5000 --no-history
    uv run python benchmarks/scenario_scale.py --database-url postgresql+psycopg://...

Without --database-url it seeds a fresh SQLite file in a temporary folder. The
database must be empty (the generator leaves a seeded database alone).
"""

from __future__ import annotations

import argparse
import platform
import resource
import tempfile
import time
from datetime import date
from pathlib import Path

import sqlalchemy as sa

from promoflow.kit.db import make_engine, make_sessionmaker
from promoflow.migrate import upgrade
from promoflow.scenario.generator import ScenarioSize, generate

WRITTEN_TABLES = (
    "suppliers", "items", "locations", "prices", "ranging", "inventory_positions",
    "sandbox_stock", "scenario_demand_params", "weekly_sales", "scenario_promotion_truth",
)  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stores", type=int, default=50)
    parser.add_argument("--skus", type=int, default=500)
    parser.add_argument("--regions", type=int, default=5)
    parser.add_argument("--dcs", type=int, default=2)
    parser.add_argument("--categories", type=int, default=20)
    parser.add_argument("--suppliers", type=int, default=20)
    parser.add_argument("--weeks", type=int, default=104, help="weeks of sales history")
    parser.add_argument("--history", action=argparse.BooleanOptionalAction, default=True)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--database-url", default="", help="empty: a fresh temporary SQLite file")
    args = parser.parse_args()

    size = ScenarioSize(
        stores=args.stores,
        regions=min(args.regions, args.stores),
        dcs=min(args.dcs, args.regions, args.stores),
        skus=args.skus,
        categories=min(args.categories, args.skus),
        suppliers=args.suppliers,
        history_weeks=args.weeks,
        with_history=args.history,
    )
    with tempfile.TemporaryDirectory() as folder:
        url = args.database_url or f"sqlite:///{Path(folder) / 'scenario.db'}"
        engine = make_engine(url)
        upgrade(engine, demo=True)  # production and demo branches, as the generator needs
        started = time.perf_counter()
        summary = generate(
            make_sessionmaker(engine), size, seed=args.seed, today=date(2026, 11, 27)
        )
        seconds = time.perf_counter() - started
        with engine.connect() as connection:
            rows = sum(
                connection.scalar(sa.text(f"SELECT count(*) FROM {table}")) or 0
                for table in WRITTEN_TABLES
            )
        engine.dispose()
        on_disk = sum(p.stat().st_size for p in Path(folder).glob("scenario.db*"))

    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"machine        {platform.machine()}, {platform.python_version()}, {url.split(':')[0]}")
    print(f"size           {size.stores} stores x {size.skus} SKUs, history={size.with_history}")
    print(f"seeded         {'yes' if summary.created else 'no (database already had items)'}")
    print(f"positions      {summary.positions:,}")
    print(f"sales rows     {summary.sales_rows:,}")
    print(f"seconds        {seconds:.1f}")
    print(f"rows written   {rows:,} ({rows / seconds:,.0f} per second)")
    print(f"peak RSS       {peak_mb:,.0f} MB")
    if on_disk:
        print(f"database size  {on_disk / 2**20:,.0f} MB")


if __name__ == "__main__":
    main()

"""The console's read models at scale: Today and the Promotions list over 10,000 promotions.

Seeds the default generated retailer (50 stores, 500 SKUs, no sales history), then
bulk-loads (COPY on PostgreSQL, executemany on SQLite, as the scenario generator
does) 10,000 promotions with their scope, a forecast for those within 30 days,
gate rounds (a third blocked), approval tasks, purchase orders (some acknowledged
late) and 1,000 open exception cases. Then it times the read models in-process,
server time without HTTP: `today()` for a finance approver (all banners and one
banner) and `search_promotions()` (the first page, a filtered page, the next page).

    uv run python benchmarks/console_pages.py                     # SQLite in a temp folder
    uv run python benchmarks/console_pages.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/test

With a PostgreSQL URL a fresh database is created beside it (and dropped after). The
target is p95 < 200 ms for each. `seed(url)` is separate so that a page benchmark
over HTTP can seed the same data: `seeded_database(admin_url, workdir)` returns the
URL of a seeded database.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import polars as pl
import sqlalchemy as sa
from bench_server import fresh_database_url
from sqlalchemy.orm import Session, sessionmaker

from promoflow.console.schemas import SearchFilters
from promoflow.console.service import search_promotions, today
from promoflow.gates.schemas import Gate
from promoflow.identity.schemas import EVERY_BANNER, BannerScope
from promoflow.kit.db import make_engine
from promoflow.kit.roles import Role

NOW = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
STATES = ["draft", "in_approval", "approved", "scheduled", "live", "ended", "closed", "cancelled"]
STATE_WEIGHTS = [0.05, 0.08, 0.05, 0.3, 0.1, 0.07, 0.3, 0.05]
CASE_KINDS = ["supplier_shortfall", "stockout_risk", "channel_publication_error"]
KEYED_BY_PARENTS = {"promotion_items", "promotion_locations", "promotion_forecasts"}
CASE_OWNERS = [Role.SUPPLY_CHAIN_PLANNER, Role.FINANCE_APPROVER, Role.CHANNEL_OPERATIONS]


def seeded_database(admin_url: str, workdir: Path, promotions: int = 10_000) -> str:
    """A fresh database beside `admin_url` (or SQLite in `workdir`), seeded; its URL."""
    url = fresh_database_url(admin_url, workdir)
    seed(url, promotions)
    return url


def seed(url: str, promotions: int = 10_000, cases: int = 1_000, seed_: int = 7) -> None:
    """Migrate, generate the retailer, and bulk-load the promotions and their history."""
    from promoflow.config import Settings
    from promoflow.runtime import open_database, stop_runtime
    from promoflow.scenario.bulk import bulk_session, write_frame
    from promoflow.scenario.generator import ScenarioSize, generate
    from promoflow.schema import metadata

    runtime = open_database(Settings(database_url=url))
    try:
        generate(runtime.sessions, ScenarioSize(with_history=False), seed=seed_)
        with runtime.engine.begin() as connection:
            items = pl.DataFrame(
                connection.execute(sa.text("SELECT id, unit_cost, regular_price FROM items")).all(),
                schema=["item_id", "unit_cost", "regular_price"],
                orient="row",
            )
            stores = [
                row[0]
                for row in connection.execute(
                    sa.text("SELECT id FROM locations WHERE kind = 'store' ORDER BY id")
                )
            ]
            supplier = connection.execute(sa.text("SELECT min(id) FROM suppliers")).scalar_one()
            frames = _frames(promotions, cases, items, stores, supplier, seed_)
            with bulk_session(connection, list(frames)):
                for name, frame in frames.items():
                    write_frame(connection, metadata.tables[name], frame)
            if connection.dialect.name == "postgresql":
                # COPY wrote the ids: move each sequence past them for later inserts.
                for table in frames:
                    if table not in KEYED_BY_PARENTS:
                        connection.exec_driver_sql(
                            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                            f"(SELECT max(id) FROM {table}))"
                        )
            connection.exec_driver_sql("ANALYZE")
    finally:
        stop_runtime()


def _frames(
    count: int, cases: int, items: pl.DataFrame, stores: list[int], supplier: int, seed_: int
) -> dict[str, pl.DataFrame]:
    rng = np.random.default_rng(seed_)
    ids = np.arange(1, count + 1)
    start = [NOW.date() + timedelta(days=int(d)) for d in rng.integers(-120, 120, count)]
    status = rng.choice(STATES, count, p=STATE_WEIGHTS)
    stamp = [NOW - timedelta(days=30)] * count
    promotions = pl.DataFrame(
        {
            "id": ids,
            "code": [f"PRM-{i:05d}" for i in ids],
            "name": [f"Promotion {i} {['autumn', 'winter', 'fizz', 'snack'][i % 4]}" for i in ids],
            "description": "",
            "status": status,
            "status_reason": "",
            "revision": 1,
            "requested_by": "mia.merch",
            "category": "",
            "mechanic": "percent_off",
            "discount_percent": 20.0,
            "start_date": start,
            "end_date": [d + timedelta(days=13) for d in start],
            "channels": '["pos"]',
            "display_support": False,
            "feature_support": False,
            "vendor_funding_per_unit": 0.0,
            "timing": "{}",
            "created_at": stamp,
            "updated_at": stamp,
            "row_version": 1,
        }
    )
    pick = items.sample(count * 3, with_replacement=True, seed=seed_)
    lines = (
        pl.DataFrame({"promotion_id": np.repeat(ids, 3), "item_id": pick["item_id"]})
        .join(items, on="item_id")
        .unique(["promotion_id", "item_id"])
        .with_columns(promo_price=(pl.col("regular_price").cast(pl.Float64) * 0.8).round(2))
    )
    where = rng.integers(0, len(stores), count)
    scope = pl.DataFrame(
        {
            "promotion_id": np.repeat(ids, 5),
            "location_id": [stores[(w + k) % len(stores)] for w in where for k in range(5)],
        }
    )
    soon = promotions.filter(
        (pl.col("start_date") >= NOW.date() - timedelta(days=14))
        & (pl.col("start_date") <= NOW.date() + timedelta(days=30))
    )["id"]
    base = lines.filter(pl.col("promotion_id").is_in(soon.implode())).join(scope, on="promotion_id")
    units = rng.gamma(2.0, 10.0, base.height)
    forecasts = base.select("promotion_id", "item_id", "location_id").with_columns(
        revision=1,
        baseline_units=units,
        promoted_units=units * 1.6,
        p10=units * 1.2,
        p50=units * 1.6,
        p80=units * 1.9,
        p90=units * 2.1,
        model_version=pl.lit("bench"),
        inputs_hash=pl.lit("bench"),
    )
    gated = ids[np.isin(status, ["scheduled", "live", "approved"])]
    gates = [(pid, round_, gate) for pid in gated for round_ in (1, 2) for gate in Gate]
    blocked = set(gated[rng.random(len(gated)) < 0.33].tolist())
    gate_results = pl.DataFrame(
        {
            "id": np.arange(1, len(gates) + 1),
            "promotion_id": [g[0] for g in gates],
            "revision": 1,
            "evaluation": [g[1] for g in gates],
            "gate": [str(g[2]) for g in gates],
            "status": [
                "fail"
                if g[2] == Gate.STORE_READINESS and (g[1] == 1 or g[0] in blocked)
                else "pass"
                for g in gates
            ],
            "blocking": True,
            "score": 0.01,
            "threshold": 0.05,
            "summary": "",
            "evidence": "{}",
            "policy_version": "bench",
            "evaluated_at": [NOW - timedelta(days=1)] * len(gates),
        }
    )
    asking = ids[status == "in_approval"]
    tasks = pl.DataFrame(
        {
            "id": np.arange(1, len(asking) + 1),
            "promotion_id": asking,
            "revision": 1,
            "role": str(Role.FINANCE_APPROVER),
            "assigned_role": str(Role.FINANCE_APPROVER),
            "reason": "depth",
            "status": "pending",
            "sla_hours": 16.0,
            "due_at": [NOW + timedelta(hours=int(h)) for h in rng.integers(-20, 40, len(asking))],
            "created_at": [NOW - timedelta(hours=24)] * len(asking),
            "comment": "",
            "row_version": 1,
        }
    )
    ordered = gated[: len(gated) // 2]
    orders = pl.DataFrame(
        {
            "id": np.arange(1, len(ordered) + 1),
            "number": [f"PO-{pid}" for pid in ordered],
            "supplier_id": supplier,
            "destination_id": stores[0],
            "promotion_id": ordered,
            "status": "open",
            "ack_status": rng.choice(["pending", "acknowledged"], len(ordered), p=[0.2, 0.8]),
            "ordered_at": [NOW - timedelta(days=5)] * len(ordered),
            "ack_due_at": [
                NOW - timedelta(hours=int(h)) for h in rng.integers(-48, 48, len(ordered))
            ],
            "due_date": [NOW.date()] * len(ordered),
        }
    )
    case_promotions = rng.choice(ids, cases)
    open_cases = pl.DataFrame(
        {
            "id": np.arange(1, cases + 1),
            "kind": rng.choice(CASE_KINDS, cases),
            "severity": "high",
            "status": "open",
            "owner_role": [str(r) for r in rng.choice(CASE_OWNERS, cases)],
            "promotion_id": case_promotions,
            "revision": 1,
            "title": [f"case of PRM-{p:05d}" for p in case_promotions],
            "detail": "",
            "linked": "{}",
            "allowed_actions": '["retry"]',
            "opened_at": [NOW - timedelta(hours=int(h)) for h in rng.integers(0, 72, cases)],
            "row_version": 1,
        }
    )
    return {
        "promotions": promotions,
        "promotion_items": lines.select("promotion_id", "item_id", "promo_price"),
        "promotion_locations": scope,
        "promotion_forecasts": forecasts,
        "gate_results": gate_results,
        "approval_tasks": tasks,
        "purchase_orders": orders,
        "exception_cases": open_cases,
    }


def _timed(
    sessions: sessionmaker[Session], read: Callable[[Session], object], calls: int
) -> tuple[list[float], list[float]]:
    """Wall and CPU milliseconds of each call (CPU: this process's, the database's
    own work included on SQLite; on a shared machine it shows the cost without the wait)."""
    wall, cpu = [], []
    for _ in range(calls):
        with sessions() as session:
            began, began_cpu = time.perf_counter(), time.process_time()
            read(session)
            wall.append((time.perf_counter() - began) * 1000)
            cpu.append((time.process_time() - began_cpu) * 1000)
    return wall, cpu


def measure(url: str, calls: int = 50) -> dict[str, dict[str, float]]:
    """p50 and p95 (ms) of each read model over `calls` calls, one session each."""
    engine = make_engine(url)
    sessions = sessionmaker(engine)
    banner = BannerScope(names=frozenset({"FreshMart"}))
    filtered = SearchFilters(state="scheduled", at_risk=True, launch_from=NOW.date(), text="fizz")
    with sessions() as session:
        first = search_promotions(session, EVERY_BANNER, SearchFilters(), None, 50, now=NOW)
    reads: dict[str, Callable[[Session], object]] = {
        "today (all banners)": lambda s: today(s, EVERY_BANNER, Role.FINANCE_APPROVER, NOW),
        "today (one banner)": lambda s: today(s, banner, Role.FINANCE_APPROVER, NOW),
        "search first page": lambda s: search_promotions(
            s, EVERY_BANNER, SearchFilters(), None, 50, now=NOW
        ),
        "search filtered page": lambda s: search_promotions(s, banner, filtered, None, 50, now=NOW),
        "search next page": lambda s: search_promotions(
            s, EVERY_BANNER, SearchFilters(), first.next_cursor, 50, now=NOW
        ),
    }
    results = {}
    for name, read in reads.items():
        _timed(sessions, read, 3)  # warm the caches and the policy files
        wall, cpu = _timed(sessions, read, calls)
        took = sorted(wall)
        results[name] = {
            "p50_ms": round(statistics.median(took), 1),
            "p95_ms": round(took[min(len(took) - 1, int(0.95 * len(took)))], 1),
            "cpu_p50_ms": round(statistics.median(cpu), 1),
        }
    engine.dispose()
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--database-url", default="sqlite://", help="SQLite (default) or a PostgreSQL server's URL"
    )
    parser.add_argument("--promotions", type=int, default=10_000)
    parser.add_argument("--cases", type=int, default=1_000)
    parser.add_argument("--calls", type=int, default=50)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        url = fresh_database_url(args.database_url, Path(folder))
        try:
            _run(url, args.promotions, args.cases, args.calls)
        finally:
            if url.startswith("postgresql"):
                _drop(args.database_url, url)
    return 0


def _run(url: str, promotions: int, cases: int, calls: int) -> None:
    began = time.perf_counter()
    seed(url, promotions, cases)
    print(
        f"seeded {promotions:,} promotions and {cases:,} cases in "
        f"{time.perf_counter() - began:.0f} s ({sa.make_url(url).get_backend_name()})"
    )
    print(f"load average before measuring: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    results = measure(url, calls)
    for name, figures in results.items():
        verdict = "ok" if figures["p95_ms"] < 200 else "OVER 200 ms"
        print(
            f"{name:22} p50 {figures['p50_ms']:6.1f} ms  p95 {figures['p95_ms']:6.1f} ms  "
            f"(CPU p50 {figures['cpu_p50_ms']:6.1f} ms)  {verdict}"
        )
    print(json.dumps(results))


def _drop(admin_url: str, url: str) -> None:
    name = sa.make_url(url).database
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


if __name__ == "__main__":
    sys.exit(main())

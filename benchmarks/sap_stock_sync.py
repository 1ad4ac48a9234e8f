"""SAP stock sync: 100,000 item-locations through SAP's OData mock server into positions.

    uv run python benchmarks/sap_stock_sync.py [--items 5000 --plants 20 --page-size 5000]

Needs Node and `npm ci --prefix tests/sap_mockserver`. Generates one
A_MatlStkInAcctMod row per item x plant (unrestricted stock), starts
@sap-ux/fe-mockserver-core on 127.0.0.1 with the real API_MATERIAL_STOCK_SRV
EDMX, seeds a SQLite database (migrated, items and locations from the catalogue
models), then streams the positions with the SAP connector page by page
(`$top`/`$skip`, `$inlinecount`, `$orderby`) and applies each page with
`inventory.service.apply_positions` in its own transaction. Prints wall time,
rows/s, the split between reading and applying, and peak memory (process RSS
before and after the sync, the mock server's RSS, and with --tracemalloc the
Python heap's peak).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import resource
import sqlite3
import sys
import tempfile
import time
import tracemalloc
from decimal import Decimal
from pathlib import Path

import pytest
import sqlalchemy as sa

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "connectors" / "sap"))

from sap_support import MockSap, connector, stock_row  # noqa: E402

from promoflow.catalog.models import Item, Location  # noqa: E402
from promoflow.inventory.models import InventoryPosition  # noqa: E402
from promoflow.inventory.service import apply_positions  # noqa: E402
from promoflow.kit.db import make_engine, make_sessionmaker, transaction  # noqa: E402
from promoflow.migrate import upgrade  # noqa: E402


def _sku(index: int) -> str:
    return f"SAP{index:06d}"


def _seed(sessions: sa.orm.sessionmaker[sa.orm.Session], items: int, plants: int) -> None:
    with transaction(sessions) as session:
        session.add_all(
            Location(
                code=f"LOC{p:03d}",
                name=f"Plant {p:04d}",
                kind="dc" if p < 2 else "store",
                region="north",
                attributes={},
            )
            for p in range(plants)
        )
        session.add_all(
            Item(
                sku=_sku(i),
                name=f"Article {i}",
                department="grocery",
                category="pantry",
                subcategory="dry",
                unit_cost=Decimal("1.00"),
                regular_price=Decimal("2.00"),
                attributes={},
            )
            for i in range(items)
        )


def _write_stock(workdir: Path, items: int, plants: int) -> float:
    """The mock server's A_MatlStkInAcctMod.json, one row per item x plant; total units."""
    rng = random.Random(7)
    folder = workdir / "data" / "API_MATERIAL_STOCK_SRV"
    folder.mkdir(parents=True)
    total = 0.0
    with (folder / "A_MatlStkInAcctMod.json").open("w") as out:
        out.write("[")
        for index in range(items * plants):
            units = rng.randint(0, 400)
            total += units
            row = stock_row(_sku(index // plants), f"P{index % plants:03d}", "0001", f"{units}.000")
            out.write(("," if index else "") + json.dumps(row))
        out.write("]")
    return total


def _node_peak_mib(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=5000)
    parser.add_argument("--plants", type=int, default=20)
    parser.add_argument("--page-size", type=int, default=5000)
    parser.add_argument(
        "--tracemalloc",
        action="store_true",
        help="also trace the Python heap's peak (slows the sync about twofold)",
    )
    args = parser.parse_args()
    mapping = ", ".join(f"P{p:03d}=LOC{p:03d}" for p in range(args.plants))
    with tempfile.TemporaryDirectory() as folder:
        # Written row by row so this process never holds the whole data set.
        expected_units = _write_stock(Path(folder) / "sap", args.items, args.plants)
        server = MockSap(Path(folder) / "sap", {})
        monkeypatch = pytest.MonkeyPatch()
        try:
            engine = make_engine(f"sqlite:///{folder}/bench.db")
            upgrade(engine)
            sessions = make_sessionmaker(engine)
            _seed(sessions, args.items, args.plants)
            sap = connector(
                server,
                "sap-bench",
                monkeypatch,
                plant_locations=mapping,
                page_size=args.page_size,
                timeout_seconds=300,
            )
            rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            if args.tracemalloc:
                tracemalloc.start()
            read_s = read_cpu = apply_s = 0.0
            applied = pages = 0
            started = time.perf_counter()
            stream = iter(sap.stream_positions())
            while True:
                t0, c0 = time.perf_counter(), time.process_time()
                page = next(stream, None)
                read_s += time.perf_counter() - t0
                read_cpu += time.process_time() - c0
                if page is None:
                    break
                t1 = time.perf_counter()
                with transaction(sessions) as session:
                    applied += apply_positions(session, page, "sap-bench")
                apply_s += time.perf_counter() - t1
                pages += 1
            wall = time.perf_counter() - started
            heap_peak = tracemalloc.get_traced_memory()[1] if args.tracemalloc else None
            tracemalloc.stop()
            node_peak = _node_peak_mib(server.process.pid)
            with transaction(sessions) as session:
                stored, units = session.execute(
                    sa.select(sa.func.count(), sa.func.sum(InventoryPosition.on_hand))
                ).one()
        finally:
            server.stop()
            monkeypatch.undo()
    assert stored == args.items * args.plants == applied, (stored, applied)
    assert abs(float(units) - expected_units) < 1e-6, (units, expected_units)
    print(f"machine: {platform.machine()} {platform.processor() or ''} cpus={os.cpu_count()}")
    print(f"python {platform.python_version()}, SQLite {sqlite3.sqlite_version}")
    print(f"item-locations: {applied:,} in {pages} pages of up to {args.page_size:,}")
    print(f"wall: {wall:.1f} s   ({applied / wall:,.0f} rows/s)")
    print(f"  reading + mapping (HTTP, JSON, paging checks): {read_s:.1f} s")
    print(f"    of which this process's CPU (the rest is the mock server): {read_cpu:.1f} s")
    print(f"  applying (apply_positions, one transaction per page): {apply_s:.1f} s")
    if heap_peak is not None:
        print(f"peak Python heap during the sync (tracemalloc): {heap_peak / 2**20:.1f} MiB")
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"peak RSS of this process (ru_maxrss): {rss:.0f} MiB, {rss_before:.0f} MiB before the sync"
    )
    if node_peak is not None:
        print(f"peak RSS of the mock server (VmHWM): {node_peak:.0f} MiB")


if __name__ == "__main__":
    main()

"""Seconds and peak memory of an OCEL 2.0 export of 1,000,000 events (10,000 promotions).

    uv run python benchmarks/ocel_export.py [--promotions 10000] [--format all|json|sqlite|xml|xes]
        [--database PATH]

A fresh SQLite database is seeded in a child process (500 items, 50 stores, the
promotions with three items each, and 100 lifecycle events per promotion shaped as
the catalogue says: transitions, forecast, recommendations, a purchase order, three
approvals, gate rounds, publication attempts, sell-through checks, an exception);
then each format (all four by default) is exported by a child process of its own,
through `export_ocel` / `export_xes` as the CLI calls them, so the peak RSS printed is
that export's alone. It prints wall seconds, CPU seconds (all threads) and the load
average, since a shared machine's wall time says little alone.
Target: under 30 s on a 2-core machine.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from promoflow.kit.db import make_engine
from promoflow.migrate import upgrade
from promoflow.processmining import service

EVENTS_PER_PROMOTION = 100
STATES = ["submitted", "validated", "assessed", "in_approval", "approved", "scheduled"]
LATE_STATES = ["publishing", "live", "ended", "analysed", "closed"]
FORMATS = (*service.OCEL_FORMATS, "xes")


def _lifecycle(pk: int) -> list[tuple[str, str, dict[str, Any]]]:
    """(type, subject, data) of one promotion's 100 events, in order."""
    subject = f"promotion/{pk}"
    out: list[tuple[str, str, dict[str, Any]]] = [
        ("promotion.created", subject, {"code": f"B-{pk}", "items": 3, "locations": 10})
    ]
    previous = "draft"
    for state in STATES:
        out.append((f"promotion.{state}", subject, _move(previous, state)))
        previous = state
    for n, kind in enumerate(("allocation", "replenishment")):
        rec = {"recommendation_id": pk * 2 + n, "kind": kind, "revision": 1, "lines": 6}
        out.append(
            (
                "recommendation.proposed",
                f"recommendation/{rec['recommendation_id']}",
                {**rec, "status": "proposed", "model_version": "m1", "inputs_hash": "h"},
            )
        )
        out.append(
            (
                "recommendation.auto_applied",
                f"recommendation/{rec['recommendation_id']}",
                {**rec, "status": "auto_applied"},
            )
        )
    order = f"B-{pk}-r1-RP1"
    for verb, extra in (
        ("raised", {"lines": 3}),
        ("acknowledged", {"status": "acknowledged"}),
        ("received", {}),
    ):
        out.append(
            (
                f"purchase_order.{verb}",
                f"purchase_order/{order}",
                {"number": order, "promotion_id": pk, **extra},
            )
        )
    for n, role in enumerate(("pricing_analyst", "category_manager", "finance_approver")):
        task = {"task_id": pk * 3 + n, "revision": 1, "role": role, "code": f"B-{pk}"}
        out.append(
            (
                "approval.requested",
                f"approval/{task['task_id']}",
                {**task, "sla_hours": 8.0, "due_at": "2026-12-01T08:00:00+00:00"},
            )
        )
        out.append(
            ("approval.decided", f"approval/{task['task_id']}", {**task, "decision": "approved"})
        )
    out.append(
        (
            "exception.opened",
            f"exception/{pk}",
            {
                "case_id": pk,
                "kind": "channel_publication_error",
                "severity": "high",
                "owner_role": "channel_operations",
                "title": "pos failed",
            },
        )
    )
    out.append(
        (
            "exception.resolved",
            f"exception/{pk}",
            {"case_id": pk, "kind": "channel_publication_error", "resolution": "retry"},
        )
    )
    for part in range(10):
        channel = ("pos", "ecommerce")[part % 2]
        out.append(
            (
                "publication.attempted",
                f"{subject}/{channel}",
                {"channel": channel, "part": part, "outcome": "ok", "revision": 1},
            )
        )
    for channel in ("pos", "ecommerce"):
        out.append(
            (
                "publication.published",
                f"{subject}/{channel}",
                {"channel": channel, "key": f"B-{pk}-{channel}", "prices": 30, "revision": 1},
            )
        )
    for state in LATE_STATES:
        out.append((f"promotion.{state}", subject, _move(previous, state)))
        previous = state
    checks = {
        "elapsed_days": 1,
        "window_days": 7,
        "lines_checked": 30,
        "units_sold": 12.0,
        "anomalies": 0,
        "new_anomalies": 0,
        "case_id": None,
    }
    gates = {
        "revision": 1,
        "launch_ready": False,
        "gates": {"inventory_coverage": "fail"},
        "failing": ["inventory_coverage"],
    }
    missing = EVENTS_PER_PROMOTION - len(out)
    rounds = [("gate.evaluated", subject, gates)] * (missing // 2)
    live = [("sell_through.checked", subject, checks)] * (missing - missing // 2)
    # Gate rounds before launch, sell-through checks while live (before ended).
    before_end = len(out) - 3
    out = out[:20] + rounds + out[20:before_end] + live + out[before_end:]
    return out[:EVENTS_PER_PROMOTION]


def _move(before: str, after: str) -> dict[str, Any]:
    return {"from": before, "to": after, "reason": "benchmark", "revision": 1}


def seed(path: Path, promotions: int) -> None:
    """Migrate a new SQLite database and fill it (run in a child process)."""
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    engine.dispose()
    db = sqlite3.connect(path)
    start = datetime(2026, 1, 5, tzinfo=UTC)
    db.executemany(
        "INSERT INTO items (id, sku, name, department, category, subcategory, brand, unit_cost,"
        " regular_price, status, restricted, promo_eligible, case_pack, attributes)"
        " VALUES (?, ?, ?, 'Grocery', 'Snacks', 'Crisps', 'Acme', 1, 2, 'active', 0, 1, 12, '{}')",
        [(i, f"SKU-{i:05d}", f"item {i}") for i in range(1, 501)],
    )
    db.executemany(
        "INSERT INTO locations (id, code, name, kind, region, banner, price_zone, capacity_units,"
        " attributes) VALUES (?, ?, ?, 'store', 'North', 'Fresh', 'national', 0, '{}')",
        [(i, f"ST-{i:03d}", f"store {i}") for i in range(1, 51)],
    )
    day = start.date().isoformat()
    db.executemany(
        "INSERT INTO promotions (id, code, name, description, status, status_reason, revision,"
        " requested_by, category, mechanic, start_date, end_date, channels, display_support,"
        " feature_support, vendor_funding_per_unit, timing, created_at, updated_at)"
        " VALUES (?, ?, ?, '', 'closed', '', 1, 'mia.merch', 'Snacks', 'percent_off', ?, ?,"
        " '[\"pos\", \"ecommerce\"]', 0, 0, 0, '{}', ?, ?)",
        [
            (p, f"B-{p}", f"promotion {p}", day, day, str(start), str(start))
            for p in range(1, promotions + 1)
        ],
    )
    db.executemany(
        "INSERT INTO promotion_revisions VALUES (?, 1, '{}', 'mia.merch', ?)",
        [(p, str(start)) for p in range(1, promotions + 1)],
    )
    db.executemany(
        "INSERT INTO promotion_items VALUES (?, ?, 1.5)",
        [(p, (p * 7 + k) % 500 + 1) for p in range(1, promotions + 1) for k in range(3)],
    )
    rows = []
    for p in range(1, promotions + 1):
        for n, (kind, subject, data) in enumerate(_lifecycle(p)):
            moment = start + timedelta(minutes=p * 7 + n)
            rows.append(
                (
                    str(uuid.uuid4()),
                    "urn:promoflow",
                    f"io.promoflow.{kind}",
                    subject,
                    str(moment.replace(tzinfo=None)),
                    "system",
                    p,
                    json.dumps(data),
                )
            )
    db.executemany(
        "INSERT INTO events (id, source, type, subject, time, actor, promotion_id, data)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        rows,
    )
    db.commit()
    db.close()


def export(database: Path, fmt: str, folder: Path) -> None:
    """Export one format and print its figures (run in a child process)."""
    engine = make_engine(f"sqlite:///{database}")
    output = folder / f"log.{fmt}"
    load_before = os.getloadavg()[0]
    began, cpu = time.perf_counter(), time.process_time()
    with Session(engine) as session:
        if fmt == "xes":
            summary = service.export_xes(session, output)
        else:
            summary = service.export_ocel(session, fmt, output)
    seconds, cpu = time.perf_counter() - began, time.process_time() - cpu
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    size_mb = output.stat().st_size / 1e6
    output.unlink()
    print(
        f"{fmt:<6} {summary.events:,} events, {summary.objects:,} objects, {size_mb:,.0f} MB: "
        f"{seconds:.1f} s wall, {cpu:.1f} s CPU, peak RSS {peak_mb:,.0f} MB, "
        f"load average {load_before:.1f} before / {os.getloadavg()[0]:.1f} after",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--promotions", type=int, default=10_000)
    parser.add_argument("--format", default="all", choices=["all", *FORMATS])
    parser.add_argument(
        "--database", type=Path, help="seed this SQLite file, or reuse it if it exists"
    )
    parser.add_argument("--seed-only", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--export-only", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.seed_only:
        seed(args.seed_only, args.promotions)
        return
    if args.export_only:
        database, fmt, folder = args.export_only
        export(Path(database), fmt, Path(folder))
        return
    formats = FORMATS if args.format == "all" else (args.format,)
    with tempfile.TemporaryDirectory(prefix="ocel-bench-") as folder:
        database = args.database or Path(folder) / "promoflow.db"
        if not database.exists():
            began = time.perf_counter()
            command = [sys.executable, __file__, "--promotions", str(args.promotions)]
            subprocess.run([*command, "--seed-only", str(database)], check=True)
            print(f"seeded {args.promotions:,} promotions in {time.perf_counter() - began:.1f} s")
        print(
            f"machine: {platform.machine()}, {os.cpu_count()} CPUs, Python "
            f"{platform.python_version()}; target: each under 30 s",
            flush=True,
        )
        for fmt in formats:
            command = [sys.executable, __file__, "--export-only", str(database), fmt, folder]
            subprocess.run(command, check=True)


if __name__ == "__main__":
    main()

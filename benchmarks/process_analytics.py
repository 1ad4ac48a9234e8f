"""Seconds and peak memory of every process-analytics report over 1,000,000 events.

    uv run python benchmarks/process_analytics.py [--promotions 10000] [--events-each 100]
        [--database sqlite:///path.db] [--reuse]

A synthetic log (10,000 promotions of 100 events each by default: lifecycle moves,
approval tasks with reminders and escalations, gate rounds with failing coverage,
publications, sell-through checks; some rejected and resubmitted) is written to a
fresh database in a child process; then this process loads it through
`analytics.service.load` (the query, Polars) and runs every report, as
`promoflow analytics` and `/api/v1/analytics` do. It prints the seconds and this
process's peak RSS (wall and CPU seconds, and the load average: on a shared machine the
wall time alone says little). `--reuse` analyses a database an earlier run generated.
Target: under 10 s and under 2 GB on a 2-core machine.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import sqlalchemy as sa

ROLES = ("pricing_analyst", "category_manager", "finance_approver")
SLA_HOURS = {"pricing_analyst": 8.0, "category_manager": 16.0, "finance_approver": 24.0}
GATES = ("inventory_coverage", "stockout_risk", "price_validity", "store_readiness")
BATCH = 20_000


class LogWriter:
    """Appends one promotion's events at a time and writes them in batches."""

    def __init__(self, connection: sa.Connection, table: sa.Table) -> None:
        self.connection, self.table = connection, table
        self.rows: list[dict[str, Any]] = []
        self.sequence = 0
        self.task = 0

    def add(
        self, pid: int, at: datetime, kind: str, data: dict[str, Any], actor: str = "system"
    ) -> None:
        self.sequence += 1
        self.rows.append(
            {
                "id": f"bench-{self.sequence}",
                "source": "/promoflow",
                "type": f"io.promoflow.{kind}",
                "subject": f"promotion/{pid}",
                "time": at,
                "actor": actor,
                "promotion_id": pid,
                "data": data,
            }
        )
        if len(self.rows) >= BATCH:
            self.flush()

    def flush(self) -> None:
        if self.rows:
            self.connection.execute(sa.insert(self.table), self.rows)
            self.rows = []


def _revision(
    log: LogWriter,
    rng: np.random.Generator,
    pid: int,
    rev: int,
    start: datetime,
    budget: int,
    rejected: bool,
) -> tuple[datetime, int]:
    """One revision's events from submission; returns when it ended and events written."""
    written = log.sequence
    t = start

    def step(hours: float) -> datetime:
        nonlocal t
        t += timedelta(hours=float(hours))
        return t

    def move(frm: str, to: str, hours: float) -> None:
        log.add(
            pid,
            step(hours),
            f"promotion.{to}",
            {"from": frm, "to": to, "reason": "", "revision": rev},
        )

    move("rejected" if rev > 1 else "draft", "submitted", 0.5)
    move("submitted", "validated", 0.1)
    log.add(pid, step(0.1), "forecast.created", {"revision": rev, "lines": 40})
    move("validated", "assessed", 0.1)
    tasks = []
    for role in ROLES:
        log.task += 1
        due = t + timedelta(hours=SLA_HOURS[role])
        log.add(
            pid,
            t,
            "approval.requested",
            {
                "task_id": log.task,
                "revision": rev,
                "role": role,
                "sla_hours": SLA_HOURS[role],
                "due_at": due.isoformat(),
            },
        )
        tasks.append((log.task, role))
    move("assessed", "in_approval", 0.0)
    asked = t
    for task_id, role in tasks:
        # The category manager is slow: a third of its tasks pass the SLA and escalate.
        latency = rng.gamma(2.0, 3.0) + (
            18.0 if role == "category_manager" and rng.random() < 0.33 else 0.0
        )
        if latency > SLA_HOURS[role] * 0.5:
            log.add(
                pid,
                asked + timedelta(hours=SLA_HOURS[role] * 0.5),
                "approval.reminded",
                {"task_id": task_id, "revision": rev, "role": role},
            )
        if latency > SLA_HOURS[role]:
            log.add(
                pid,
                asked + timedelta(hours=SLA_HOURS[role]),
                "approval.escalated",
                {
                    "task_id": task_id,
                    "revision": rev,
                    "role": role,
                    "to_role": "operations_admin",
                    "case_id": 0,
                },
            )
        decision = "rejected" if rejected and role == "finance_approver" else "approved"
        log.add(
            pid,
            asked + timedelta(hours=latency),
            "approval.decided",
            {"task_id": task_id, "revision": rev, "role": role, "decision": decision},
            actor=f"{role.split('_')[0]}.{task_id % 7}",
        )
        t = max(t, asked + timedelta(hours=latency))
    if rejected:
        move("in_approval", "rejected", 0.1)
        return t, log.sequence - written
    move("in_approval", "approved", 0.1)
    move("approved", "scheduled", 0.1)
    log.add(pid, step(0.1), "store_tasks.created", {"tasks": 5, "revision": rev})
    log.add(pid, step(2.0), "store_tasks.confirmed", {"confirmed": 5, "revision": rev})
    used = log.sequence - written
    # What is left of the budget goes to gate rounds and live sell-through checks.
    tail = 12
    rounds = max(2, (budget - used - tail) // 2)
    failing_rounds = int(rng.integers(1, rounds)) if rng.random() < 0.2 else 0
    for index in range(rounds):
        failing = ["inventory_coverage", "stockout_risk"] if index < failing_rounds else []
        log.add(
            pid,
            step(rng.uniform(0.5, 3.0)),
            "gate.evaluated",
            {
                "revision": rev,
                "launch_ready": not failing,
                "gates": {g: "fail" if g in failing else "pass" for g in GATES},
                "failing": failing,
            },
        )
    move("scheduled", "publishing", 0.1)
    for channel in ("pos", "ecommerce"):
        log.add(
            pid,
            step(0.05),
            "publication.attempted",
            {"channel": channel, "part": 0, "outcome": "applied", "revision": rev},
        )
        log.add(
            pid,
            step(0.01),
            "publication.published",
            {"channel": channel, "prices": 40, "revision": rev},
        )
    move("publishing", "live", 0.05)
    checks = budget - (log.sequence - written) - 3
    for _ in range(max(0, checks)):
        log.add(
            pid,
            step(168.0 / max(1, checks)),
            "sell_through.checked",
            {"elapsed_days": 1, "anomalies": 0},
        )
    move("live", "ended", 1.0)
    move("ended", "analysed", 1.0)
    move("analysed", "closed", 0.5)
    return t, log.sequence - written


def generate(url: str, promotions: int, events_each: int) -> None:
    """A fresh schema and a synthetic log of `promotions` x about `events_each` events."""
    from promoflow.events.models import Event
    from promoflow.kit.db import make_engine
    from promoflow.migrate import upgrade
    from promoflow.promotions.models import Promotion

    engine = make_engine(url)
    upgrade(engine)
    rng = np.random.default_rng(7)
    base = datetime(2026, 1, 5, 8, tzinfo=UTC)
    categories = ("Coffee & Tea", "Cleaning", "Breakfast Cereal", "Confectionery")
    mechanics = ("percent_off", "amount_off", "multi_buy")
    with engine.begin() as connection:
        rows = []
        for pid in range(1, promotions + 1):
            start = base + timedelta(minutes=40 * pid)
            launch = start + timedelta(days=10)
            rows.append(
                {
                    "id": pid,
                    "code": f"BENCH-{pid:05d}",
                    "name": f"bench {pid}",
                    "status": "closed",
                    "requested_by": "mia.merch",
                    "category": categories[pid % 4],
                    "mechanic": mechanics[pid % 3],
                    "start_date": launch.date(),
                    "end_date": launch.date() + timedelta(days=6),
                    "channels": ["pos", "ecommerce"],
                    "timing": {
                        "seconds_per_business_hour": 3600.0,
                        "launch_at": launch.isoformat(),
                        "end_at": (launch + timedelta(days=7)).isoformat(),
                        "gate_recheck_seconds": 3600.0,
                        "operator_wait_seconds": 14400.0,
                    },
                    "created_at": start,
                    "updated_at": start,
                }
            )
        connection.execute(sa.insert(Promotion.__table__), rows)
        log = LogWriter(connection, Event.__table__)
        for pid in range(1, promotions + 1):
            start = base + timedelta(minutes=40 * pid)
            log.add(
                pid,
                start,
                "promotion.created",
                {"code": f"BENCH-{pid:05d}", "items": 8, "locations": 20},
                actor="mia.merch",
            )
            budget = events_each - 1
            if rng.random() < 0.08:  # finance rejects; the merchandiser resubmits
                ended, used = _revision(log, rng, pid, 1, start, budget, rejected=True)
                _revision(
                    log, rng, pid, 2, ended + timedelta(hours=4), budget - used, rejected=False
                )
            else:
                _revision(log, rng, pid, 1, start, budget, rejected=False)
        log.flush()
    engine.dispose()
    print(f"generated {promotions:,} promotions, {log.sequence:,} events", flush=True)


def analyse(url: str) -> None:
    from sqlalchemy.orm import Session

    from promoflow.analytics import service
    from promoflow.analytics.schemas import AnalyticsFilter
    from promoflow.kit.db import make_engine

    engine = make_engine(url)
    load_before = os.getloadavg()[0]
    started, cpu_started = time.perf_counter(), time.process_time()
    with Session(engine) as session:
        process = service.load(session, AnalyticsFilter(), now=datetime(2027, 6, 1, tzinfo=UTC))
    loaded = time.perf_counter()
    timings = {}
    for name in service.REPORTS:
        begun = time.perf_counter()
        service.run(process, name)
        timings[name] = time.perf_counter() - begun
    total, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    revisions = process.events.select("promotion_id", "revision").n_unique()
    print(f"events {process.events.height:,}, revisions {revisions:,}")
    print(f"load (query + Polars): {loaded - started:.2f} s")
    for name, seconds in timings.items():
        print(f"  {name:<12} {seconds:.2f} s")
    print(f"total: {total:.2f} s wall, {cpu:.2f} s CPU; peak RSS {peak_mb:,.0f} MB")
    print(f"load average {load_before:.1f} before / {os.getloadavg()[0]:.1f} at the end")
    machine = f"{platform.machine()}, {os.cpu_count()} CPUs"
    print(f"machine: {machine}, Python {platform.python_version()}; {date.today()}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--promotions", type=int, default=10_000)
    parser.add_argument("--events-each", type=int, default=100)
    parser.add_argument("--database", default=None, help="default: a new SQLite file")
    parser.add_argument(
        "--reuse", action="store_true", help="analyse --database as it is, generating nothing"
    )
    parser.add_argument("--generate-only", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.generate_only:
        generate(args.database, args.promotions, args.events_each)
        return
    if args.reuse:
        if args.database is None:
            parser.error("--reuse needs --database")
        analyse(args.database)
        return
    folder = tempfile.mkdtemp(prefix="promoflow-analytics-")
    url = args.database or f"sqlite:///{Path(folder) / 'analytics.db'}"
    # Written by a child, so the peak RSS printed below is the analytics' alone.
    subprocess.run(
        [
            sys.executable,
            __file__,
            "--generate-only",
            "--database",
            url,
            "--promotions",
            str(args.promotions),
            "--events-each",
            str(args.events_each),
        ],
        check=True,
    )
    analyse(url)


if __name__ == "__main__":
    main()

"""Seconds and peak memory of the ROI scorecard (and one drill-down) over 1,000,000 events.

    uv run python benchmarks/scorecard.py [--promotions 10000] [--events-each 100]
        [--database sqlite:///path.db]

The synthetic log is the one benchmarks/process_analytics.py writes (in a child
process, so the peak RSS printed is the scorecard's alone); this process then runs
`analytics.scorecard_service` as `promoflow analytics scorecard` and
`/api/v1/analytics/scorecard` do: the scorecard per month, then the drill-down of
`manual_touches` (every event a person signed, each resolved to its id).
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
from datetime import UTC, date, datetime
from pathlib import Path

WRITER = Path(__file__).with_name("process_analytics.py")


def score(url: str) -> None:
    from sqlalchemy.orm import Session

    from promoflow.analytics import scorecard_service
    from promoflow.analytics.schemas import AnalyticsFilter
    from promoflow.kit.db import make_engine

    engine = make_engine(url)
    now = datetime(2027, 6, 1, tzinfo=UTC)
    started, cpu_started = time.perf_counter(), time.process_time()
    with Session(engine) as session:
        loaded = scorecard_service.load_scorecard(session, AnalyticsFilter(), now)
        after_load = time.perf_counter()
        result = scorecard_service.scorecard(loaded, "month")
        after_figures = time.perf_counter()
        drilled = scorecard_service.drill(session, loaded, "manual_touches", "month")
        after_drill = time.perf_counter()
    total, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    events = sum(len(row["events"]) for row in drilled["counted"])
    print(f"events {loaded.process.events.height:,}; {len(result['figures'])} figures")
    print(f"load (process log + scorecard events): {after_load - started:.2f} s")
    print(f"figures per month: {after_figures - after_load:.2f} s")
    print(f"drill manual_touches ({events:,} events named): {after_drill - after_figures:.2f} s")
    print(f"total: {total:.2f} s wall, {cpu:.2f} s CPU; peak RSS {peak_mb:,.0f} MB")
    print(f"load average at the end: {', '.join(f'{x:.1f}' for x in os.getloadavg())}")
    machine = f"{platform.machine()}, {os.cpu_count()} CPUs"
    print(f"machine: {machine}, Python {platform.python_version()}; {date.today()}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--promotions", type=int, default=10_000)
    parser.add_argument("--events-each", type=int, default=100)
    parser.add_argument("--database", default=None, help="default: a new SQLite file")
    args = parser.parse_args()
    folder = tempfile.mkdtemp(prefix="promoflow-scorecard-")
    url = args.database or f"sqlite:///{Path(folder) / 'scorecard.db'}"
    subprocess.run(
        [
            *(sys.executable, str(WRITER), "--generate-only", "--database", url),
            *("--promotions", str(args.promotions), "--events-each", str(args.events_each)),
        ],
        check=True,
    )
    score(url)


if __name__ == "__main__":
    main()

"""Lifecycle throughput: promotions per second from submit to live.

Zero-latency sandbox connectors; approvals and store confirmations are given by
the demo's desk as soon as they appear, so the figure measures promoflow itself
(workflow steps, validation, forecast, gates, publication), not people.

    uv run python benchmarks/lifecycle_throughput.py --promotions 40
    uv run python benchmarks/lifecycle_throughput.py --promotions 40 \
        --database-url postgresql+psycopg://postgres@127.0.0.1:5432/bench
"""

from __future__ import annotations

import argparse
import logging
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import sqlalchemy as sa
import structlog
from bench_server import fresh_database_url

from promoflow.config import Settings
from promoflow.kit.clock import utcnow
from promoflow.lifecycle import commands
from promoflow.promotions.models import Promotion
from promoflow.promotions.schemas import PromotionCreate
from promoflow.runtime import start_runtime, stop_runtime
from promoflow.scenario import estate_actions, picking
from promoflow.scenario.desk import Desk, PromotionScript
from promoflow.scenario.generator import ScenarioSize, generate


class LockErrors(logging.Handler):
    """Counts log lines (stdlib and structlog) that say the database was locked."""

    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.count = 0
        structlog.configure(processors=[self._structlog, *structlog.get_config()["processors"]])

    def emit(self, record: logging.LogRecord) -> None:
        text = record.getMessage() + (self.format(record) if record.exc_info else "")
        if "database is locked" in text:
            self.count += 1

    def _structlog(self, _logger: Any, _method: str, event: dict[str, Any]) -> dict[str, Any]:
        if "database is locked" in str(event):
            self.count += 1
        return event


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--promotions", type=int, default=40)
    parser.add_argument("--database-url", default="")
    args = parser.parse_args()
    url = fresh_database_url(args.database_url, Path(tempfile.mkdtemp()))
    settings = Settings(
        database_url=url,
        executor_id="bench",
        seconds_per_business_hour=1.0,
        dbos_log_level="ERROR",
        data_dir=Path(tempfile.mkdtemp()),
    )
    lock_errors = LockErrors()
    logging.getLogger().addHandler(lock_errors)
    runtime = start_runtime(settings)
    try:
        generate(
            runtime.sessions,
            ScenarioSize(
                stores=20, regions=4, skus=600, categories=12, suppliers=8, history_weeks=60
            ),
            seed=3,
        )
        with runtime.sessions() as session:
            regions = picking.regions(session)
            used: set[str] = set()
            scopes = []
            for n in range(args.promotions):
                region = regions[n % len(regions)]
                skus = picking.promotable_skus(session, region=region, count=2, exclude=used)
                used.update(skus)
                scopes.append((region, skus))
        for region, skus in scopes:
            estate_actions.set_cover(runtime, skus, [region], weeks_of_cover=10)
        start = utcnow().date() + timedelta(weeks=3)
        ids = []
        for n, (region, skus) in enumerate(scopes):
            created = commands.create_promotion(
                PromotionCreate(
                    code=f"B-{n}",
                    name=f"bench {n}",
                    mechanic="percent_off",
                    discount_percent=Decimal(15),
                    start_date=start,
                    end_date=start + timedelta(days=6),
                    channels=["pos", "ecommerce"],
                    items=skus,
                    regions=[region],
                ),
                "mia.merch",
            )
            ids.append(created.id)
        desk = Desk({f"B-{n}": PromotionScript(f"B-{n}") for n in range(len(ids))}, think_hours=0.0)
        began = time.monotonic()
        submitted = {}
        for promotion_id in ids:
            commands.submit_promotion(
                promotion_id, "mia.merch", launch_lead_hours=0, live_hours=1_000_000
            )
            submitted[promotion_id] = time.monotonic()
        live_at: dict[int, float] = {}
        while len(live_at) < len(ids) and time.monotonic() - began < 600:
            desk.tick()
            with runtime.sessions() as session:
                rows = session.execute(
                    sa.select(Promotion.id, Promotion.status).where(Promotion.id.in_(ids))
                ).all()
            for promotion_id, status in rows:
                if status == "live" and promotion_id not in live_at:
                    live_at[promotion_id] = time.monotonic()
                elif status in ("rejected", "cancelled", "on_hold"):
                    raise SystemExit(f"promotion {promotion_id} ended {status}")
        elapsed = max(live_at.values(), default=time.monotonic()) - began
        latencies = [live_at[i] - submitted[i] for i in live_at] or [float("nan")]
        backend = "postgresql" if url.startswith("postgresql") else "sqlite"
        print(
            f"backend={backend} live={len(live_at)}/{len(ids)} wall={elapsed:.1f}s "
            f"throughput={len(live_at) / elapsed:.2f} promotions/s "
            f"latency_median={statistics.median(latencies):.2f}s "
            f"latency_max={max(latencies):.2f}s "
            f"lock_errors_logged={lock_errors.count}"
        )
        for promotion_id in ids:
            commands.cancel_promotion(
                promotion_id, "ada.admin", "operations_admin", "benchmark over"
            )
    finally:
        stop_runtime()
    return 0 if len(live_at) == len(ids) and lock_errors.count == 0 else 1


if __name__ == "__main__":
    sys.exit(main())

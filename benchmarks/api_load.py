"""API under load: concurrent readers and writers against `promoflow serve`, from outside.

The server runs as its own process (the installed console script) on a seeded
database; this process is the clients, over loopback. Readers list promotions,
read one and list approvals; writers create promotions with codes of their own,
so that afterwards every write can be checked against the database: a write the
server confirmed (201) must be there, any other outcome (503 shed, timeout,
error) must have left nothing behind.

    uv run python benchmarks/api_load.py                       # SQLite, 200 + 20 for 60 s
    uv run python benchmarks/api_load.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/test
    uv run python benchmarks/api_load.py --sweep 10,25,50,100,200 --seconds 15   # find the knee

It prints per-kind counts by status, p50/p99 latency and requests/s, and with
--sweep the concurrency at which the readers' p99 first passes 1 s.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import tempfile
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa
from bench_server import fresh_database_url, serve_process

KEYS = {
    "reader": ("bench-reader-key-0123456789", "rita.reader", "auditor"),
    "writer": ("bench-writer-key-0123456789", "mia.merch", "merchandiser"),
}


@dataclass
class Outcomes:
    """What each kind of request got, and how long it took."""

    statuses: dict[str, Counter[str]] = field(default_factory=dict)
    latencies: dict[str, list[float]] = field(default_factory=dict)
    confirmed_codes: set[str] = field(default_factory=set)
    unconfirmed_codes: set[str] = field(default_factory=set)
    failed_after: dict[str, list[float]] = field(default_factory=dict)

    def record(self, kind: str, status: str, seconds: float) -> None:
        self.statuses.setdefault(kind, Counter())[status] += 1
        self.latencies.setdefault(kind, []).append(seconds)
        if not status.startswith("2"):
            self.failed_after.setdefault(status, []).append(seconds)


def _seed(url: str) -> dict[str, Any]:
    """A small retailer (no sales history: reads and writes need only master data)."""
    from promoflow.config import Settings
    from promoflow.runtime import open_database, stop_runtime
    from promoflow.scenario import picking
    from promoflow.scenario.generator import ScenarioSize, generate

    runtime = open_database(Settings(database_url=url))
    try:
        generate(runtime.sessions, ScenarioSize.small(), seed=7)
        with runtime.sessions() as session:
            region = picking.regions(session)[0]
            skus = picking.promotable_skus(session, region=region, count=2)
    finally:
        stop_runtime()
    return {"region": region, "skus": skus}


def _promotion(code: str, scope: dict[str, Any]) -> dict[str, Any]:
    start = date.today() + timedelta(weeks=20)
    return {
        "code": code,
        "name": f"load {code}",
        "mechanic": "percent_off",
        "discount_percent": 15,
        "start_date": start.isoformat(),
        "end_date": (start + timedelta(days=6)).isoformat(),
        "channels": ["pos", "ecommerce"],
        "items": scope["skus"],
        "regions": [scope["region"]],
    }


async def _reader(client: httpx.AsyncClient, until: float, out: Outcomes, codes: list[str]) -> None:
    headers = {"X-API-Key": KEYS["reader"][0]}
    while time.monotonic() < until:
        choice = random.random()
        if choice < 0.5 or not codes:
            kind, path = "list", "/api/v1/promotions?limit=20"
        elif choice < 0.8:
            kind, path = "read", f"/api/v1/promotions/{random.choice(codes)}"
        else:
            kind, path = "approvals", "/api/v1/approvals?role=finance_approver"
        await _call(client, "GET", path, headers, None, kind, out)


async def _writer(
    client: httpx.AsyncClient, until: float, out: Outcomes, scope: dict[str, Any], codes: list[str]
) -> None:
    headers = {"X-API-Key": KEYS["writer"][0]}
    while time.monotonic() < until:
        code = f"LOAD-{uuid.uuid4().hex[:12].upper()}"
        status = await _call(
            client, "POST", "/api/v1/promotions", headers, _promotion(code, scope), "create", out
        )
        if status == "201":
            out.confirmed_codes.add(code)
            codes.append(code)
        else:
            out.unconfirmed_codes.add(code)


async def _call(
    client: httpx.AsyncClient,
    method: str,
    path: str,
    headers: dict[str, str],
    body: dict[str, Any] | None,
    kind: str,
    out: Outcomes,
) -> str:
    started = time.monotonic()
    try:
        response = await client.request(method, path, headers=headers, json=body)
        status = str(response.status_code)
        if response.status_code == 503 and "retry-after" not in response.headers:
            status = "503-without-retry-after"
    except httpx.TimeoutException:
        status = "client-timeout"
    except httpx.TransportError as error:
        status = f"transport:{type(error).__name__}"
    out.record(kind, status, time.monotonic() - started)
    return status


async def _run(
    url: str, readers: int, writers: int, seconds: float, timeout: float, scope: dict[str, Any]
) -> tuple[Outcomes, float]:
    out = Outcomes()
    codes: list[str] = []
    limits = httpx.Limits(max_connections=readers + writers, max_keepalive_connections=None)
    async with httpx.AsyncClient(base_url=url, timeout=timeout, limits=limits) as client:
        started = time.monotonic()
        until = started + seconds
        await asyncio.gather(
            *(_reader(client, until, out, codes) for _ in range(readers)),
            *(_writer(client, until, out, scope, codes) for _ in range(writers)),
        )
        wall = time.monotonic() - started
    return out, wall


def _quantile(values: list[float], q: float) -> float:
    if len(values) < 2:
        return values[0] if values else float("nan")
    return statistics.quantiles(values, n=1000, method="inclusive")[int(q * 1000) - 1]


def _report(out: Outcomes, wall: float) -> None:
    total = sum(sum(c.values()) for c in out.statuses.values())
    print(f"  {total} requests in {wall:.1f} s: {total / wall:.0f} requests/s")
    for kind in sorted(out.statuses):
        lat = out.latencies[kind]
        counts = ", ".join(f"{s}: {n}" for s, n in sorted(out.statuses[kind].items()))
        print(
            f"  {kind:9} p50 {_quantile(lat, 0.5) * 1000:7.0f} ms  p99 "
            f"{_quantile(lat, 0.99) * 1000:7.0f} ms  max {max(lat) * 1000:7.0f} ms  [{counts}]"
        )
    for status, seconds in sorted(out.failed_after.items()):
        print(f"  {status}: {len(seconds)} answered after {min(seconds):.2f}-{max(seconds):.2f} s")


def _failures(out: Outcomes) -> int:
    """Answers a client must never get: a 5xx other than a shed 503, no answer in time."""
    return sum(
        count
        for statuses in out.statuses.values()
        for status, count in statuses.items()
        if status != "503" and not ("200" <= status < "500")
    )


def _check_writes(url: str, out: Outcomes) -> bool:
    """Every confirmed create is in the database; no unconfirmed one is."""
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            stored = set(
                conn.execute(sa.text("SELECT code FROM promotions WHERE code LIKE 'LOAD-%'"))
                .scalars()
                .all()
            )
    finally:
        engine.dispose()
    lost = out.confirmed_codes - stored
    phantom = out.unconfirmed_codes & stored
    print(
        f"  writes: {len(out.confirmed_codes)} confirmed, all stored: {not lost} "
        f"({len(lost)} lost); {len(out.unconfirmed_codes)} not confirmed, "
        f"{len(phantom)} of them stored anyway"
    )
    return not lost and not phantom


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database-url", default="", help="PostgreSQL admin URL; empty = SQLite")
    parser.add_argument("--readers", type=int, default=200)
    parser.add_argument("--writers", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--timeout", type=float, default=30.0, help="client timeout, seconds")
    parser.add_argument("--sweep", default="", help="reader counts to find the knee, e.g. 10,50")
    parser.add_argument("--env", action="append", default=[], help="extra NAME=VALUE for serve")
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="promoflow-load-"))
    url = fresh_database_url(args.database_url, workdir)
    scope = _seed(url)
    keys = ",".join(":".join(entry) for entry in KEYS.values())
    extra = dict(pair.split("=", 1) for pair in args.env)
    backend = "PostgreSQL" if url.startswith("postgresql") else "SQLite"
    ok = True
    with serve_process(url, workdir, {"PROMOFLOW_API_KEYS": keys, **extra}) as server:
        print(f"serve on {backend}, {server.url}; log {server.log}")
        out, wall = asyncio.run(
            _run(server.url, args.readers, args.writers, args.seconds, args.timeout, scope)
        )
        print(f"{args.readers} readers + {args.writers} writers for {args.seconds:.0f} s:")
        _report(out, wall)
        ok = _check_writes(url, out)
        server_errors = _failures(out)
        print(f"  failures (5xx other than a shed 503, timeouts, transport): {server_errors}")
        ok = ok and server_errors == 0
        knee = None
        for readers in [int(n) for n in args.sweep.split(",") if n]:
            sweep, sweep_wall = asyncio.run(
                _run(server.url, readers, 0, args.seconds, args.timeout, scope)
            )
            reads = [v for k, lat in sweep.latencies.items() for v in lat]
            p99 = _quantile(reads, 0.99)
            print(f"sweep: {readers} readers, p99 {p99 * 1000:.0f} ms")
            _report(sweep, sweep_wall)
            if knee is None and p99 > 1.0:
                knee = readers
        if args.sweep:
            print(f"knee (readers' p99 first above 1 s): {knee or 'not reached'}")
        print(f"server log lines with 'database is locked': {server.count('database is locked')}")
    print("PASS" if ok else "FAIL: a 5xx other than a shed 503, a timeout, or a write lost/phantom")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

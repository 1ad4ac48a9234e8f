"""API under load: concurrent readers and writers against `promoflow serve`, from outside.

The server runs as its own process (the installed console script) on a seeded
database. Readers are `wrk` connections (C, so the load generator takes little
of the two cores the server also needs) cycling through the promotion list,
single promotions and the approval queue. Writers are this process: each
creates promotions with codes of its own, one after another, so that afterwards
every write is checked against the database: a write the server confirmed (201)
must be there, and any other outcome (503 shed, timeout, error) must have left
nothing behind.

    uv run python benchmarks/api_load.py                       # SQLite, 200 + 20 for 60 s
    uv run python benchmarks/api_load.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/test
    uv run python benchmarks/api_load.py --sweep 10,25,50,100,200 --seconds 20   # find the knee

Needs `wrk` (Debian: apt-get install wrk). Prints reads by status with wrk's
p50/p99, writes by status with p50/p99, requests/s, the check of every write,
and with --sweep the reader count at which the readers' p99 first passes 1 s.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import shutil
import statistics
import subprocess
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

RATE_LIMITS = (
    "PROMOFLOW_RATE_LIMIT_READS",
    "PROMOFLOW_RATE_LIMIT_WRITES",
    "PROMOFLOW_RATE_LIMIT_ANONYMOUS",
)
KEYS = {
    "reader": ("bench-reader-key-0123456789", "rita.reader", "auditor"),
    "writer": ("bench-writer-key-0123456789", "mia.merch", "merchandiser"),
}

# The readers' script: a mix of paths, and every status counted across wrk's threads.
WRK_SCRIPT = """
local paths = {%(paths)s}
local threads = {}
local n = 0
function setup(thread) table.insert(threads, thread) end
function init(args) statuses = {} end
function request()
  n = n + 1
  return wrk.format("GET", paths[(n %% #paths) + 1], {["X-API-Key"] = "%(key)s"})
end
function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end
function done(summary, latency, requests)
  local totals = {}
  for _, thread in ipairs(threads) do
    for status, count in pairs(thread:get("statuses")) do
      totals[status] = (totals[status] or 0) + count
    end
  end
  for status, count in pairs(totals) do
    io.write(string.format("status %%d %%d\\n", status, count))
  end
  for _, p in ipairs({50, 99}) do
    io.write(string.format("p%%d %%d\\n", p, latency:percentile(p)))
  end
  io.write(string.format("max %%d\\n", latency.max))
  local e = summary.errors
  io.write(string.format("errors %%d %%d %%d %%d\\n", e.connect, e.read, e.write, e.timeout))
  io.write(string.format("requests %%d %%d\\n", summary.requests, summary.duration))
end
"""


@dataclass
class Reads:
    """What wrk measured for the readers."""

    statuses: Counter[int]
    p50_ms: float
    p99_ms: float
    max_ms: float
    socket_errors: dict[str, int]
    requests: int
    seconds: float


@dataclass
class Writes:
    statuses: Counter[str] = field(default_factory=Counter)
    latencies: list[float] = field(default_factory=list)
    confirmed: set[str] = field(default_factory=set)
    unconfirmed: set[str] = field(default_factory=set)


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


def _wrk_script(workdir: Path, codes: list[str]) -> Path:
    paths = ["/api/v1/promotions?limit=20", "/api/v1/approvals?role=finance_approver"]
    paths += [f"/api/v1/promotions/{code}" for code in codes]
    script = workdir / "readers.lua"
    script.write_text(
        WRK_SCRIPT % {"paths": ", ".join(f'"{p}"' for p in paths), "key": KEYS["reader"][0]}
    )
    return script


def _start_readers(
    url: str, readers: int, seconds: float, timeout: float, script: Path
) -> subprocess.Popen[str]:
    threads = max(1, min(2, readers))
    return subprocess.Popen(
        [
            "wrk",
            f"-t{threads}",
            f"-c{readers}",
            f"-d{int(seconds)}s",
            f"--timeout={int(timeout)}s",
            "-s",
            str(script),
            url,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def _read_wrk(output: str) -> Reads:
    def number(name: str) -> list[int]:
        found = re.search(rf"^{name} (.+)$", output, re.M)
        if found is None:
            raise SystemExit(f"wrk said nothing about {name}:\n{output}")
        return [int(part) for part in found.group(1).split()]

    statuses = Counter(
        {int(s): int(c) for s, c in re.findall(r"^status (\d+) (\d+)$", output, re.M)}
    )
    connect, read, write, timeout = number("errors")
    requests, micros = number("requests")
    return Reads(
        statuses=statuses,
        p50_ms=number("p50")[0] / 1000,
        p99_ms=number("p99")[0] / 1000,
        max_ms=number("max")[0] / 1000,
        socket_errors={"connect": connect, "read": read, "write": write, "timeout": timeout},
        requests=requests,
        seconds=micros / 1e6,
    )


async def _writers(
    url: str, writers: int, seconds: float, timeout: float, scope: dict[str, Any]
) -> Writes:
    out = Writes()
    headers = {"X-API-Key": KEYS["writer"][0]}
    until = time.monotonic() + seconds

    async def writer(client: httpx.AsyncClient) -> None:
        while time.monotonic() < until:
            code = f"LOAD-{uuid.uuid4().hex[:12].upper()}"
            started = time.monotonic()
            try:
                response = await client.post(
                    "/api/v1/promotions", json=_promotion(code, scope), headers=headers
                )
                status = str(response.status_code)
                if status == "503" and "retry-after" not in response.headers:
                    status = "503-without-retry-after"
            except httpx.TimeoutException:
                status = "client-timeout"
            except httpx.TransportError as error:
                status = f"transport:{type(error).__name__}"
            out.latencies.append(time.monotonic() - started)
            out.statuses[status] += 1
            (out.confirmed if status == "201" else out.unconfirmed).add(code)

    limits = httpx.Limits(max_connections=max(1, writers))
    async with httpx.AsyncClient(base_url=url, timeout=timeout, limits=limits) as client:
        await asyncio.gather(*(writer(client) for _ in range(writers)))
    return out


def _quantile(values: list[float], q: float) -> float:
    if len(values) < 2:
        return values[0] if values else float("nan")
    return statistics.quantiles(values, n=1000, method="inclusive")[int(q * 1000) - 1]


def _check_writes(url: str, out: Writes) -> bool:
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
    lost, phantom = out.confirmed - stored, out.unconfirmed & stored
    print(
        f"  writes: {len(out.confirmed)} confirmed, {len(lost)} of them missing; "
        f"{len(out.unconfirmed)} not confirmed, {len(phantom)} of them stored anyway"
    )
    return not lost and not phantom


def _report(reads: Reads, writes: Writes | None) -> int:
    """Print the figures; return the answers no client may get (see `_bad`)."""
    total = reads.requests + (sum(writes.statuses.values()) if writes else 0)
    print(f"  {total / reads.seconds:.0f} requests/s over {reads.seconds:.1f} s")
    print(
        f"  reads   p50 {reads.p50_ms:7.0f} ms  p99 {reads.p99_ms:7.0f} ms  "
        f"max {reads.max_ms:7.0f} ms  {dict(sorted(reads.statuses.items()))}  "
        f"socket errors {reads.socket_errors}"
    )
    bad = sum(n for s, n in reads.statuses.items() if s >= 500 and s != 503)
    bad += sum(reads.socket_errors.values())
    if writes is not None and writes.latencies:
        print(
            f"  creates p50 {_quantile(writes.latencies, 0.5) * 1000:7.0f} ms  p99 "
            f"{_quantile(writes.latencies, 0.99) * 1000:7.0f} ms  max "
            f"{max(writes.latencies) * 1000:7.0f} ms  {dict(sorted(writes.statuses.items()))}"
        )
        bad += sum(n for s, n in writes.statuses.items() if not ("200" <= s < "500" or s == "503"))
    return bad


def _round(
    url: str, readers: int, writers: int, seconds: float, timeout: float, script: Path, scope: Any
) -> tuple[Reads, Writes | None]:
    wrk = _start_readers(url, readers, seconds, timeout, script)
    writes = asyncio.run(_writers(url, writers, seconds, timeout, scope)) if writers else None
    output, _ = wrk.communicate(timeout=seconds + timeout + 60)
    return _read_wrk(output), writes


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
    if shutil.which("wrk") is None:
        raise SystemExit(
            "the readers are wrk connections: install wrk (Debian: apt-get install wrk)"
        )

    workdir = Path(tempfile.mkdtemp(prefix="promoflow-load-"))
    url = fresh_database_url(args.database_url, workdir)
    scope = _seed(url)
    keys = ",".join(":".join(entry) for entry in KEYS.values())
    extra = dict(pair.split("=", 1) for pair in args.env)
    backend = "PostgreSQL" if url.startswith("postgresql") else "SQLite"
    # The figure is the server's capacity, so budgets are generous: every request is
    # still checked against them, but none is refused (its 429s would count as answers).
    limits = {name: "10000000/minute" for name in RATE_LIMITS}
    with serve_process(url, workdir, {"PROMOFLOW_API_KEYS": keys, **limits, **extra}) as server:
        print(f"serve on {backend}, {server.url}; log {server.log}")
        warmup = asyncio.run(_writers(server.url, 2, 2.0, args.timeout, scope))
        script = _wrk_script(workdir, sorted(warmup.confirmed)[:20])
        reads, writes = _round(
            server.url, args.readers, args.writers, args.seconds, args.timeout, script, scope
        )
        print(f"{args.readers} readers + {args.writers} writers for {args.seconds:.0f} s:")
        bad = _report(reads, writes)
        assert writes is not None
        writes.confirmed |= warmup.confirmed
        consistent = _check_writes(url, writes)
        knee = None
        for readers in [int(n) for n in args.sweep.split(",") if n]:
            swept, _ = _round(server.url, readers, 0, args.seconds, args.timeout, script, scope)
            print(f"sweep: {readers} readers")
            _report(swept, None)
            if knee is None and swept.p99_ms > 1000:
                knee = readers
        if args.sweep:
            print(f"knee (readers' p99 first above 1 s): {knee or 'not reached'}")
    locked = server.count("database is locked")
    print(f"answers no client may get (5xx but a shed 503, socket errors, timeouts): {bad}")
    print(f"server log lines with 'database is locked': {locked}")
    ok = bad == 0 and consistent and locked == 0
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

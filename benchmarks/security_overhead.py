"""Security layers' overhead: the same read routes with and without them, from outside (issue 12).

Two servers, each its own process on the same seeded database, never both at once:
- *with*: `promoflow serve` as shipped: authentication, route authorisation, the
  audit middleware and rate limits (set so generous that they are checked on
  every request but never refuse; 429s are counted anyway). It is measured twice
  per round: readers sending an API key record (`promoflow auth keys create`),
  then readers sending a bearer token of the development issuer (`promoflow auth
  token`);
- *without*: the same app and routes with those layers removed
  (benchmarks/unsecured_server.py), served by uvicorn with serve's options and
  the same settings (request slots, pools).
Readers are `wrk` connections over loopback cycling through the promotion list,
single promotions and the approval queue. Rounds interleave the servers (with,
without, with, without, ...) so that a neighbour's load spreads over both.

    uv run python benchmarks/security_overhead.py                         # SQLite
    uv run python benchmarks/security_overhead.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/test
    uv run python benchmarks/security_overhead.py --seconds 10 --rounds 1 --connections 50

Needs `wrk` (Debian: apt-get install wrk). Prints, per round and variant,
requests/s, p50/p99, the server's CPU per request and every non-2xx answer; then
per variant the means and the ratios with / without (p99, throughput, CPU).
Exits 2 naming the step when setup fails, 1 when an answer invalidates the
figures (a 429, a 5xx other than a shed 503, a socket error), else 0.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
from bench_server import PROMOFLOW, ServeProcess, fresh_database_url, serve_process
from security_fixture import GENEROUS_LIMITS, credentials, seed

HERE = Path(__file__).resolve().parent

WRK_SCRIPT = """
local paths = {%(paths)s}
local threads = {}
local n = 0
function setup(thread) table.insert(threads, thread) end
function init(args) statuses = {} end
function request()
  n = n + 1
  return wrk.format("GET", paths[(n %% #paths) + 1], {["%(header)s"] = "%(value)s"})
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
  local e = summary.errors
  io.write(string.format("errors %%d %%d %%d %%d\\n", e.connect, e.read, e.write, e.timeout))
  io.write(string.format("requests %%d %%d\\n", summary.requests, summary.duration))
end
"""


class SetupFailed(Exception):
    """A step before or around the measurement failed; the figures would mean nothing."""

    def __init__(self, step: str, error: BaseException) -> None:
        super().__init__(f"{step}: {error}")
        self.step = step


@contextmanager
def step(name: str) -> Iterator[None]:
    """Name the step for the error, whatever it raises (serve_process raises SystemExit)."""
    try:
        yield
    except SetupFailed:
        raise
    except (Exception, SystemExit) as error:
        raise SetupFailed(name, error) from error


@dataclass(frozen=True)
class Variant:
    name: str
    header: str
    value: str
    secured: bool


@dataclass
class Run:
    """What wrk measured for one variant in one round, and the server's CPU meanwhile."""

    variant: str
    statuses: Counter[int]
    p50_ms: float
    p99_ms: float
    socket_errors: int
    requests: int
    seconds: float
    cpu_seconds: float

    @property
    def rate(self) -> float:
        return self.requests / self.seconds

    @property
    def cpu_ms_per_request(self) -> float:
        return 1000 * self.cpu_seconds / max(1, self.requests)

    def count(self, predicate: str) -> int:
        statuses = self.statuses.items()
        if predicate == "non-2xx":
            return sum(n for s, n in statuses if not 200 <= s < 300)
        if predicate == "5xx-not-shed":
            return sum(n for s, n in statuses if s >= 500 and s != 503)
        return self.statuses[int(predicate)]


def wrk_script(workdir: Path, variant: Variant, codes: list[str]) -> Path:
    paths = ["/api/v1/promotions?limit=20", "/api/v1/approvals?role=finance_approver"]
    paths += [f"/api/v1/promotions/{code}" for code in codes[:20]]
    script = workdir / f"{variant.name}.lua"
    listed = ", ".join(f'"{path}"' for path in paths)
    script.write_text(
        WRK_SCRIPT % {"paths": listed, "header": variant.header, "value": variant.value}
    )
    return script


def _cpu_seconds(pid: int) -> float:
    """User + system CPU of a process so far (all its threads), from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _wrk(url: str, script: Path, connections: int, seconds: float) -> str:
    done = subprocess.run(
        [
            "wrk",
            "-t2",
            f"-c{connections}",
            f"-d{int(seconds)}s",
            "--timeout=30s",
            "-s",
            str(script),
            url,
        ],
        capture_output=True,
        text=True,
        timeout=seconds + 120,
        check=False,
    )
    if done.returncode != 0 or "requests " not in done.stdout:
        raise RuntimeError(f"wrk failed ({done.returncode}): {done.stdout}{done.stderr}")
    return done.stdout


def measure(
    server: ServeProcess, variant: Variant, script: Path, connections: int, seconds: float
) -> Run:
    cpu_before = _cpu_seconds(server.process.pid)
    output = _wrk(server.url, script, connections, seconds)
    cpu = _cpu_seconds(server.process.pid) - cpu_before

    def numbers(name: str) -> list[int]:
        found = re.search(rf"^{name} (.+)$", output, re.M)
        if found is None:
            raise RuntimeError(f"wrk said nothing about {name}:\n{output}")
        return [int(part) for part in found.group(1).split()]

    requests, micros = numbers("requests")
    return Run(
        variant=variant.name,
        statuses=Counter(
            {int(s): int(n) for s, n in re.findall(r"^status (\d+) (\d+)$", output, re.M)}
        ),
        p50_ms=numbers("p50")[0] / 1000,
        p99_ms=numbers("p99")[0] / 1000,
        socket_errors=sum(numbers("errors")),
        requests=requests,
        seconds=micros / 1e6,
        cpu_seconds=cpu,
    )


def idle_cpu(server: ServeProcess, seconds: float = 3.0) -> float:
    """The server's CPU with no client (its background work: queues, relay), a share of a core."""
    before = _cpu_seconds(server.process.pid)
    time.sleep(seconds)
    return (_cpu_seconds(server.process.pid) - before) / seconds


def check_layers(server: ServeProcess, variant: Variant) -> None:
    """The server has (or lacks) its layers: no credential is refused (or served)."""
    bare = httpx.get(f"{server.url}/api/v1/promotions?limit=1", timeout=30)
    sent = httpx.get(
        f"{server.url}/api/v1/promotions?limit=1",
        headers={variant.header: variant.value},
        timeout=30,
    )
    limited = "ratelimit" in sent.headers
    expected = (401, 200, True) if variant.secured else (200, 200, False)
    if (bare.status_code, sent.status_code, limited) != expected:
        raise RuntimeError(
            f"{variant.name}: without a credential {bare.status_code}, with one "
            f"{sent.status_code}, RateLimit header {limited}; expected {expected}"
        )


def print_run(index: int, run: Run) -> None:
    others = {s: n for s, n in sorted(run.statuses.items()) if not 200 <= s < 300}
    print(
        f"  round {index} {run.variant:12} {run.rate:7.1f} req/s  p50 {run.p50_ms:7.1f} ms  "
        f"p99 {run.p99_ms:7.1f} ms  CPU {run.cpu_ms_per_request:5.2f} ms/request  "
        f"{run.requests} requests, non-2xx {others or 0}, 429s {run.count('429')}, "
        f"socket errors {run.socket_errors}"
    )


def summarise(runs: list[Run], variants: list[Variant], target: float) -> None:
    by_variant = {v.name: [r for r in runs if r.variant == v.name] for v in variants}
    base = by_variant["without"]

    def mean(values: list[float]) -> float:
        return statistics.fmean(values)

    print("means over the rounds, and ratios with / without:")
    for name, group in by_variant.items():
        rate, p50, p99 = (
            mean([getattr(r, a) for r in group]) for a in ("rate", "p50_ms", "p99_ms")
        )
        cpu = mean([r.cpu_ms_per_request for r in group])
        line = (
            f"  {name:12} {rate:7.1f} req/s  p50 {p50:7.1f} ms  p99 {p99:7.1f} ms  "
            f"CPU {cpu:5.2f} ms/request"
        )
        if name != "without":
            p99_ratio = p99 / mean([r.p99_ms for r in base])
            rate_ratio = rate / mean([r.rate for r in base])
            cpu_ratio = cpu / mean([r.cpu_ms_per_request for r in base])
            verdict = "met" if p99_ratio <= target else "MISSED"
            line += (
                f"   p99 x{p99_ratio:.2f} (target <= {target}: {verdict}), "
                f"throughput x{rate_ratio:.2f}, CPU per request x{cpu_ratio:.2f}"
            )
        print(line)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database-url", default="", help="PostgreSQL admin URL; empty = SQLite")
    parser.add_argument("--connections", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=30.0, help="per variant and round")
    parser.add_argument("--warmup", type=float, default=5.0, help="seconds, 10 connections")
    parser.add_argument("--rounds", type=int, default=2, help="with, without, repeated")
    parser.add_argument("--target", type=float, default=1.3, help="largest p99 ratio accepted")
    args = parser.parse_args()
    try:
        return run(args)
    except SetupFailed as failed:
        print(f"setup failed at step '{failed.step}': {failed.__cause__}", file=sys.stderr)
        return 2


def run(args: argparse.Namespace) -> int:
    with step("find wrk"):
        if shutil.which("wrk") is None:
            raise RuntimeError("the readers are wrk connections: install wrk (apt-get install wrk)")
    workdir = Path(tempfile.mkdtemp(prefix="promoflow-secbench-"))
    with step("create the database"):
        url = fresh_database_url(args.database_url, workdir)
    with step("seed the retailer, promotions and approval tasks"):
        codes = seed(url, workdir)
    with step("create the API key record and the development token"):
        key, token = credentials(url, workdir)
    with_key = Variant("with-key", "X-API-Key", key, secured=True)
    with_bearer = Variant("with-bearer", "Authorization", f"Bearer {token}", secured=True)
    # The same header as with-key, so the requests are byte for byte the same; nothing reads it.
    without = Variant("without", "X-API-Key", key, secured=False)
    variants = [with_key, with_bearer, without]
    scripts = {v.name: wrk_script(workdir, v, codes) for v in variants}
    backend = "PostgreSQL" if url.startswith("postgresql") else "SQLite"
    print(f"{backend}; {args.connections} connections, {args.seconds:.0f} s per variant, "
          f"{args.rounds} rounds; workdir {workdir}")  # fmt: skip
    unsecured = (sys.executable, str(HERE / "unsecured_server.py"))
    runs: list[Run] = []
    for index in range(1, args.rounds + 1):
        servers = [
            ([with_key, with_bearer], 8731, (PROMOFLOW, "serve")),
            ([without], 8732, unsecured),
        ]
        for group, port, command in servers:
            label = f"round {index}: {'+'.join(v.name for v in group)} on port {port}"
            with (
                step(f"{label}: start the server"),
                serve_process(url, workdir, GENEROUS_LIMITS, port=port, command=command) as server,
            ):
                print(f"  {label}: server at rest uses {idle_cpu(server):.0%} of a core")
                for variant in group:
                    with step(f"{label}: check {variant.name}'s layers"):
                        check_layers(server, variant)
                    with step(f"{label}: measure {variant.name}"):
                        _wrk(server.url, scripts[variant.name], 10, args.warmup)
                        measured = measure(
                            server, variant, scripts[variant.name], args.connections, args.seconds
                        )
                    print_run(index, measured)
                    runs.append(measured)
    summarise(runs, variants, args.target)
    spoilt = sum(r.count("429") + r.count("5xx-not-shed") + r.socket_errors for r in runs)
    shed = sum(r.count("503") for r in runs)
    print(f"answers that spoil the figures (429, 5xx but a shed 503, socket errors): {spoilt}")
    print(f"requests shed with 503 after the queue wait (counted in the figures): {shed}")
    return 1 if spoilt else 0


if __name__ == "__main__":
    sys.exit(main())

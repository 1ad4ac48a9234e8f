"""The console's pages over HTTP, from a real `promoflow serve`: Today and Promotions.

Seeds the data of `console_pages.py` (10,000 promotions, 1,000 open cases, the
generated retailer), starts `promoflow serve` on it, signs in through the sign-in
form with a development key (as a finance approver, then an operations admin) and
times the pages a person opens, one request at a time on loopback, so each figure
is the server's time plus a loopback round trip (well under a millisecond):

- `GET /` (Today: decisions, at risk, off pace, money at stake) and its live part
  `GET /today/sections`;
- `GET /promotions` (first page), a filtered page and the next page.

    uv run python benchmarks/console_http.py
    uv run python benchmarks/console_http.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/test

Target (issue 13): p95 under 200 ms on SQLite and on PostgreSQL.

Beside the times, each page's server CPU per request (user + system of the serve
process, all its threads, from /proc, over the timed calls): a figure that a
loaded machine changes far less than the wall time. It includes what the server
does in the background meanwhile (its idle rate is printed first).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from pathlib import Path

import httpx
import sqlalchemy as sa
from bench_server import fresh_database_url, serve_process
from console_pages import _drop, seed

KEYS = "bench-finance-key:fay.finance:finance_approver,bench-admin-key:olga.ops:operations_admin"
PAGES = {
    "finance_approver": {
        "today": "/",
        "today live part": "/today/sections",
    },
    "operations_admin": {
        "promotions first page": "/promotions",
        "promotions filtered": "/promotions?state=scheduled&risk=yes&q=fizz",
        "promotions next page": None,  # the first page's "Next" link
    },
}


def _signed_in(base: str, key: str) -> httpx.Client:
    client = httpx.Client(base_url=base, timeout=30, follow_redirects=False)
    answer = client.post("/sign-in", data={"credential": key, "next": "/"})
    if answer.status_code != 303:
        raise SystemExit(f"sign-in failed: {answer.status_code} {answer.text[:300]}")
    return client


def _next_link(client: httpx.Client) -> str:
    page = client.get("/promotions").text
    marker = 'href="/promotions?cursor='
    start = page.find(marker)
    if start < 0:
        raise SystemExit("the promotions page has no next link: too little data?")
    end = page.find('"', start + len('href="'))
    return page[start + len('href="') : end].replace("&amp;", "&")


def _cpu_ms(pid: int) -> float:
    """User + system CPU of a process so far (all its threads), from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) * 1000 / os.sysconf("SC_CLK_TCK")


def _idle_cpu(pid: int, seconds: float = 3.0) -> float:
    """The server's CPU milliseconds per second while nobody asks it anything."""
    began = _cpu_ms(pid)
    time.sleep(seconds)
    return (_cpu_ms(pid) - began) / seconds


def _time(client: httpx.Client, path: str, calls: int, pid: int) -> dict[str, float]:
    for _ in range(3):  # warm up
        client.get(path).raise_for_status()
    cpu = _cpu_ms(pid)
    took = []
    for _ in range(calls):
        began = time.perf_counter()
        answer = client.get(path)
        took.append((time.perf_counter() - began) * 1000)
        if answer.status_code != 200:
            raise SystemExit(f"{path} answered {answer.status_code}: {answer.text[:300]}")
    server_cpu = (_cpu_ms(pid) - cpu) / calls
    took.sort()
    return {
        "p50_ms": round(statistics.median(took), 1),
        "p95_ms": round(took[min(len(took) - 1, int(0.95 * len(took)))], 1),
        "server_cpu_ms": round(server_cpu, 1),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default="sqlite://")
    parser.add_argument("--promotions", type=int, default=10_000)
    parser.add_argument("--cases", type=int, default=1_000)
    parser.add_argument("--calls", type=int, default=50)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        workdir = Path(folder)
        url = fresh_database_url(args.database_url, workdir)
        seed(url, args.promotions, args.cases)
        backend = sa.make_url(url).get_backend_name()
        print(f"seeded {args.promotions:,} promotions, {args.cases:,} cases ({backend})")
        extra = {"PROMOFLOW_API_KEYS": KEYS, "PROMOFLOW_ENVIRONMENT": "development"}
        results: dict[str, dict[str, float]] = {}
        with serve_process(url, workdir, extra) as server:
            print(
                f"load average before measuring: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"
            )
            idle = _idle_cpu(server.process.pid)
            print(f"server CPU while idle: {idle:.1f} ms per second")
            for role, pages in PAGES.items():
                key = "bench-finance-key" if role == "finance_approver" else "bench-admin-key"
                client = _signed_in(server.url, key)
                try:
                    for name, path in pages.items():
                        results[name] = _time(
                            client, path or _next_link(client), args.calls, server.process.pid
                        )
                finally:
                    client.close()
        for name, figures in results.items():
            verdict = "ok" if figures["p95_ms"] < 200 else "OVER 200 ms"
            p50, p95, cpu = figures["p50_ms"], figures["p95_ms"], figures["server_cpu_ms"]
            print(
                f"{name:24} p50 {p50:6.1f} ms  p95 {p95:6.1f} ms  "
                f"(server CPU {cpu:5.1f} ms a request)  {verdict}"
            )
        print(json.dumps(results))
        if url.startswith("postgresql"):
            _drop(args.database_url, url)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Where the security layers' time goes: each layer's work per request, in CPU, in-process.

Companion of security_overhead.py (which measures the whole from outside, and on
a busy two-core machine is noisy). Here each piece the `with` server does and the
`without` server skips is called in a loop on a seeded database, and the process's
CPU time per call is printed: the API key record check (a read of its record),
the bearer token check (signature and claims), the rate limiter (who is calling,
then the budget's hit and window), and one trip to the thread pool (the
authentication and permission dependencies are synchronous, so each costs one).

    uv run python benchmarks/security_layer_costs.py [--database-url postgresql+psycopg://...]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

from anyio import to_thread
from bench_server import fresh_database_url
from security_fixture import GENEROUS_LIMITS, credentials, seed


def _per_call(label: str, call: Callable[[], object], calls: int) -> None:
    for _ in range(min(100, calls)):
        call()
    started = time.process_time()
    for _ in range(calls):
        call()
    print(f"  {label:46} {(time.process_time() - started) / calls * 1e6:7.1f} us CPU a call")


async def _per_await(label: str, call: Callable[[], Awaitable[object]], calls: int) -> None:
    for _ in range(min(100, calls)):
        await call()
    started = time.process_time()
    for _ in range(calls):
        await call()
    print(f"  {label:46} {(time.process_time() - started) / calls * 1e6:7.1f} us CPU a call")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database-url", default="", help="PostgreSQL admin URL; empty = SQLite")
    parser.add_argument("--calls", type=int, default=3000)
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="promoflow-seccosts-"))
    url = fresh_database_url(args.database_url, workdir)
    seed(url, workdir)
    key, token = credentials(url, workdir)
    os.environ.update(GENEROUS_LIMITS)

    from promoflow.api.ratelimit import _limiter, identify_client
    from promoflow.api.ratelimit_policy import RatePolicy
    from promoflow.app import create_app
    from promoflow.config import Settings
    from promoflow.runtime import open_database, stop_runtime

    settings = Settings(database_url=url, data_dir=workdir)
    open_database(settings)
    app = create_app(settings, manage_runtime=False)
    authenticator = app.state.authenticator
    backend = "PostgreSQL" if url.startswith("postgresql") else "SQLite"
    print(f"{backend}, {args.calls} calls each:")
    _per_call("API key record check", lambda: authenticator.api_key(key), args.calls)
    _per_call(
        "bearer token check (development issuer)", lambda: authenticator.bearer(token), args.calls
    )
    scope = {
        "type": "http",
        "method": "GET",
        "path": "/api/v1/promotions",
        "headers": [(b"x-api-key", key.encode())],
        "client": ("127.0.0.1", 50000),
        "app": app,
    }
    _per_call("rate limiter: who is calling", lambda: identify_client(scope), args.calls)
    client = identify_client(scope)
    rule = RatePolicy.from_settings(settings).rule_for(client, "GET", "/api/v1/promotions")

    async def limiter_and_threads() -> None:
        limiter = _limiter(settings)

        async def spend() -> None:
            await limiter.hit(rule.item, rule.name, client.key)
            await limiter.get_window_stats(rule.item, rule.name, client.key)

        await _per_await("rate limiter: hit and window (memory)", spend, args.calls)
        await _per_await(
            "one thread-pool trip (a sync dependency)",
            lambda: to_thread.run_sync(lambda: None),
            args.calls,
        )

    asyncio.run(limiter_and_threads())
    stop_runtime()


if __name__ == "__main__":
    main()

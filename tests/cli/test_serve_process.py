"""`promoflow serve` as an operator runs it: a real process, with connections configured.

The API tests run the app in-process with the runtime already started, so a
server that cannot start never showed there, nor one that falls over under a
crowd. One server per run (per database backend) is started here the way an
operator would: a connection added with the CLI first, then `promoflow serve`.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, timedelta

import httpx
import pytest
import sqlalchemy as sa

from db_support import fresh_database
from process_support import Server, process_env, run_cli, serving

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

ADMIN_KEY = "serve-test-admin-key-0123456789"
HEADERS = {"X-API-Key": ADMIN_KEY}


@dataclass(frozen=True)
class Served:
    server: Server
    database_url: str
    region: str
    skus: list[str]


def _seed_small_retailer(url: str) -> tuple[str, list[str]]:
    """Master data only (no sales history) in the server's database; a region and two SKUs."""
    from promoflow.kit.db import make_engine, make_sessionmaker
    from promoflow.migrate import upgrade
    from promoflow.scenario import picking
    from promoflow.scenario.generator import ScenarioSize, generate

    engine = make_engine(url)
    try:
        upgrade(engine)
        sessions = make_sessionmaker(engine)
        size = ScenarioSize(
            stores=4, regions=1, dcs=1, skus=20, categories=2, suppliers=2, with_history=False
        )
        generate(sessions, size, seed=3)
        with sessions() as session:
            region = picking.regions(session)[0]
            return region, picking.promotable_skus(session, region=region, count=2)
    finally:
        engine.dispose()


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """A seeded database of the module's own, a connection, and `promoflow serve` on it.

    Its own database, so the server's DBOS never meets the suite's runtime; a lock
    wait of half a second, so a test can hold a lock past it.
    """
    workdir = tmp_path_factory.mktemp("serve")
    with contextmanager(fresh_database)(tmp_path_factory, "serve") as url:
        region, skus = _seed_small_retailer(url)
        env = process_env(
            url,
            workdir,
            api_keys=f"{ADMIN_KEY}:ada.admin:operations_admin",
            db_lock_seconds="0.5",
            api_retry_after_seconds="7",
        )
        run_cli(
            ["connectors", "add", "stock-feed", "--connector", "sandbox", "--serves", "inventory"],
            env,
        )
        with serving(env, workdir / "serve.log") as server:
            yield Served(server=server, database_url=url, region=region, skus=skus)


def _promotion(code: str, served: Served) -> dict[str, object]:
    start = date.today() + timedelta(weeks=10)
    return {
        "code": code,
        "name": f"serve test {code}",
        "mechanic": "percent_off",
        "discount_percent": 10,
        "start_date": start.isoformat(),
        "end_date": (start + timedelta(days=6)).isoformat(),
        "channels": ["pos"],
        "items": served.skus,
        "regions": [served.region],
    }


def test_serve_starts_and_answers_once_a_connection_exists(served: Served) -> None:
    url = served.server.url
    listed = httpx.get(f"{url}/api/v1/connections", headers=HEADERS, timeout=30)
    assert listed.status_code == 200, listed.text
    assert [row["name"] for row in listed.json()["items"]] == ["stock-feed"]

    # A sync goes on the connection's queue, registered when the server started.
    enabled = httpx.post(f"{url}/api/v1/connections/stock-feed/enable", headers=HEADERS, timeout=30)
    assert enabled.status_code == 200, enabled.text
    queued = httpx.post(
        f"{url}/api/v1/connections/stock-feed/sync",
        headers=HEADERS,
        json={"capability": "inventory"},
        timeout=30,
    )
    assert queued.status_code == 202, queued.text
    assert "Traceback" not in served.server.output(), served.server.output()


async def _crowd(url: str, clients: int, rounds: int) -> list[tuple[int, str]]:
    """`clients` concurrent readers, `rounds` requests each: (status, Retry-After) per answer."""
    limits = httpx.Limits(max_connections=clients)
    async with httpx.AsyncClient(
        base_url=url, headers=HEADERS, timeout=45, limits=limits
    ) as client:

        async def reader() -> list[tuple[int, str]]:
            answers = []
            for _ in range(rounds):
                response = await client.get("/api/v1/promotions", params={"limit": 50})
                answers.append((response.status_code, response.headers.get("retry-after", "")))
            return answers

        results = await asyncio.gather(*(reader() for _ in range(clients)))
    return [answer for answers in results for answer in answers]


def test_a_crowd_of_readers_gets_answers_not_errors(served: Served) -> None:
    """120 concurrent readers (40 broke it): every answer is a 200 or a 503 to retry, in time."""
    for n in range(30):
        created = httpx.post(
            f"{served.server.url}/api/v1/promotions",
            headers=HEADERS,
            json=_promotion(f"CROWD-{n}", served),
            timeout=30,
        )
        assert created.status_code == 201, created.text
    answers = asyncio.run(_crowd(served.server.url, clients=120, rounds=3))
    statuses = Counter(status for status, _ in answers)
    assert len(answers) == 360
    assert set(statuses) <= {200, 503}, statuses
    assert statuses[200] > 0
    assert all(retry == "7" for status, retry in answers if status == 503)


def test_a_write_that_cannot_get_its_lock_is_a_503_and_writes_nothing(served: Served) -> None:
    blocker = sa.create_engine(served.database_url)
    try:
        with blocker.connect() as conn:
            # Another writer holds the lock the create needs (SQLite: the database's
            # write lock; PostgreSQL: the promotions table) longer than the server waits.
            if served.database_url.startswith("sqlite"):
                conn.exec_driver_sql("BEGIN IMMEDIATE")
            else:
                conn.execute(sa.text("LOCK TABLE promotions IN EXCLUSIVE MODE"))
            began = time.monotonic()
            refused = httpx.post(
                f"{served.server.url}/api/v1/promotions",
                headers=HEADERS,
                json=_promotion("LOCKED-OUT", served),
                timeout=30,
            )
            waited = time.monotonic() - began
            conn.rollback()
            stored = conn.execute(
                sa.text("SELECT count(*) FROM promotions WHERE code = 'LOCKED-OUT'")
            ).scalar_one()
    finally:
        blocker.dispose()
    assert refused.status_code == 503, refused.text
    assert refused.headers["retry-after"] == "7"
    assert refused.headers["content-type"] == "application/problem+json"
    assert "nothing was changed" in refused.json()["detail"]
    assert waited < 10
    assert stored == 0

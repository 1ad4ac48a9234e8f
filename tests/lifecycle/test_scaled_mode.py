"""Scaled mode as the README describes it, run as processes.

One API-only `promoflow serve` and two `promoflow worker` processes share a
PostgreSQL database, with events on NATS JetStream. Forty promotions are
created, submitted and approved through the API, as people and other systems
would; while they are in flight the worker holding the most lifecycles is
killed with SIGKILL and never restarted. A live process takes over its
workflows, every promotion still goes live, and every price reaches the POS
exactly once.
"""

from __future__ import annotations

import signal
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

import httpx
import pytest
import sqlalchemy as sa
from dbos import DBOSClient

from db_support import fresh_database
from nats_support import require_nats
from process_support import Process, process_env, serving, working
from promoflow.kit.roles import ROLES

pytestmark = [pytest.mark.slow, pytest.mark.postgresql_only]

PROMOTIONS = 40
DRIVER_PATIENCE_SECONDS = 420
WORKERS = ("scaled-worker-1", "scaled-worker-2")


def _key(role: str) -> str:
    return f"scaled-{role}-key-0123456789"


def _headers(role: str) -> dict[str, str]:
    return {"X-API-Key": _key(role)}


@dataclass(frozen=True)
class Estate:
    url: str
    scopes: list[tuple[str, list[str]]]  # (region, skus) per promotion


@pytest.fixture(scope="module")
def estate(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Estate]:
    """A seeded retailer in a database of its own: stocked scopes and a slow POS."""
    from promoflow.connectors.sandbox import faults
    from promoflow.kit.db import make_engine, make_sessionmaker
    from promoflow.migrate import upgrade
    from promoflow.scenario import estate_actions, picking
    from promoflow.scenario.generator import ScenarioSize, generate

    with contextmanager(fresh_database)(tmp_path_factory, "scaled") as url:
        engine = make_engine(url)
        try:
            upgrade(engine)
            sessions = make_sessionmaker(engine)
            size = ScenarioSize(
                stores=6, regions=2, dcs=1, skus=240, categories=6, suppliers=4, history_weeks=60
            )
            generate(sessions, size, seed=5)
            scopes: list[tuple[str, list[str]]] = []
            with sessions() as session:
                regions = picking.regions(session)
                used: set[str] = set()
                for n in range(PROMOTIONS):
                    region = regions[n % len(regions)]
                    skus = picking.promotable_skus(session, region=region, count=2, exclude=used)
                    used.update(skus)
                    scopes.append((region, skus))
            runtime = cast(Any, SimpleNamespace(sessions=sessions))
            for region, skus in scopes:
                estate_actions.set_cover(runtime, skus, [region], weeks_of_cover=10)
            # A slow POS keeps publications in flight while the worker dies.
            faults.set_faults(sessions, "sandbox-pos", latency_ms=150)
        finally:
            engine.dispose()
        yield Estate(url=url, scopes=scopes)


def _promotion(n: int, region: str, skus: list[str]) -> dict[str, Any]:
    start = date.today() + timedelta(weeks=3)
    return {
        "code": f"SCALE-{n:02d}",
        "name": f"scaled {n}",
        "mechanic": "percent_off",
        "discount_percent": 15,
        "start_date": start.isoformat(),
        "end_date": (start + timedelta(days=6)).isoformat(),
        "channels": ["pos", "ecommerce"],
        "items": skus,
        "regions": [region],
    }


class Desk:
    """The people, through the API: approvers, planners, store operations."""

    def __init__(self, client: httpx.Client) -> None:
        self.client = client

    def act(self) -> None:
        for role in ROLES:
            queue = self.client.get(
                "/api/v1/approvals", params={"role": role}, headers=_headers(role)
            )
            for task in queue.json()["items"] if queue.status_code == 200 else []:
                self.client.post(
                    f"/api/v1/approvals/{task['id']}/decision",
                    json={"decision": "approve"},
                    headers=_headers(role),
                )

    def confirm_stores(self, codes: list[str]) -> None:
        for code in codes:
            self.client.post(
                f"/api/v1/promotions/{code}/store-tasks/confirm",
                json={},
                headers=_headers("store_operations"),
            )
            proposed = self.client.get(
                f"/api/v1/promotions/{code}/recommendations",
                params={"status": "proposed"},
                headers=_headers("supply_chain_planner"),
            )
            for recommendation in proposed.json()["items"] if proposed.status_code == 200 else []:
                self.client.post(
                    f"/api/v1/recommendations/{recommendation['id']}/accept",
                    json={},
                    headers=_headers("supply_chain_planner"),
                )

    def statuses(self) -> dict[str, str]:
        listed = self.client.get(
            "/api/v1/promotions", params={"limit": 500}, headers=_headers("auditor")
        )
        listed.raise_for_status()
        return {row["code"]: row["status"] for row in listed.json()["items"]}


def _pending_by_executor(url: str) -> Counter[str]:
    client = DBOSClient(system_database_url=url, application_name="promoflow")
    try:
        pending = client.list_workflows(
            status="PENDING", workflow_id_prefix="promotion-", load_input=False, load_output=False
        )
    finally:
        client.destroy()
    return Counter(row.executor_id or "" for row in pending)


def _prices_at_pos(url: str) -> Counter[tuple[str, str, str]]:
    """(promotion code, sku, store) -> how many times the POS applied its price."""
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                sa.text(
                    "SELECT publication_key, sku, location_code FROM sandbox_channel_prices "
                    "WHERE system = 'sandbox-pos' AND publication_key LIKE 'SCALE-%'"
                )
            ).all()
    finally:
        engine.dispose()
    # Keys are '<code>-r<revision>-...': a price re-sent under another key counts too.
    return Counter((key.split("-r", 1)[0], sku, store) for key, sku, store in rows)


def _stores_per_region(url: str) -> dict[str, int]:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                sa.text(
                    "SELECT region, count(*) FROM locations WHERE kind = 'store' GROUP BY region"
                )
            ).all()
    finally:
        engine.dispose()
    return {region: count for region, count in rows}


REACHED_LIVE = {"live", "ended", "analysed", "closed"}


def test_a_worker_killed_mid_flight_costs_no_promotion_and_no_repeated_price(
    estate: Estate, tmp_path: Path
) -> None:
    require_nats()
    tag = uuid.uuid4().hex[:8]
    shared = {
        "api_keys": ",".join(f"{_key(role)}:{role}.person:{role}" for role in ROLES),
        "event_bus": "nats",
        "nats_stream": f"SCALED_{tag}",
        "nats_subject_prefix": f"scaled{tag}.events.",
        "seconds_per_business_hour": "2",
        "executor_reap_seconds": "1",
        "publication_part_size": "4",
        # Three processes and the suite's own share the server's 100 connections.
        "api_max_concurrency": "4",
        "workflow_db_connections": "4",
        "dbos_system_db_connections": "6",
    }
    processes: dict[str, Process] = {}
    with ExitStack() as stack:
        server = stack.enter_context(
            serving(
                process_env(
                    estate.url,
                    tmp_path,
                    executor_id="scaled-serve",
                    run_workflows="false",
                    **shared,
                ),
                tmp_path / "serve.log",
            )
        )
        for name in WORKERS:
            env = process_env(estate.url, tmp_path, executor_id=name, **shared)
            processes[name] = stack.enter_context(working(env, tmp_path / f"{name}.log"))
        client = stack.enter_context(httpx.Client(base_url=server.url, timeout=30))
        desk = Desk(client)
        codes = []
        for n, (region, skus) in enumerate(estate.scopes):
            created = client.post(
                "/api/v1/promotions",
                json=_promotion(n, region, skus),
                headers=_headers("merchandiser"),
            )
            assert created.status_code == 201, created.text
            codes.append(created.json()["code"])
        for code in codes:
            submitted = client.post(
                f"/api/v1/promotions/{code}/submit",
                json={"launch_lead_hours": 0, "live_hours": 5000},
                headers=_headers("merchandiser"),
            )
            assert submitted.status_code == 202, submitted.text

        victim: str | None = None
        deadline = time.monotonic() + DRIVER_PATIENCE_SECONDS
        statuses: dict[str, str] = {}
        while time.monotonic() < deadline:
            desk.act()
            statuses = desk.statuses()
            desk.confirm_stores(
                [c for c, s in statuses.items() if s in ("scheduled", "publishing")]
            )
            live = sum(status in REACHED_LIVE for status in statuses.values())
            if victim is None and live >= 3:
                # Mid-flight: some live, the rest on their way. Kill the busier worker.
                busiest = _pending_by_executor(estate.url)
                victim = max(WORKERS, key=lambda name: busiest[name])
                assert busiest[victim] > 0, busiest
                processes[victim].kill()
            if victim is not None and live == PROMOTIONS:
                break
            assert not {s for s in statuses.values()} & {"rejected", "cancelled", "on_hold"}, (
                statuses
            )
            time.sleep(0.3)
        # Stopped as an orchestrator stops them: each exits at once on SIGTERM,
        # though every lifecycle still waits for its end date in a worker.
        survivors = [name for name in WORKERS if name != victim]
        exits = {name: processes[name].stop(grace=15) for name in survivors}
        exits["serve"] = server.stop(grace=15)
        logs = {name: p.output() for name, p in processes.items()} | {"serve": server.output()}

    assert victim is not None, "no promotion went live before the deadline"
    # uvicorn re-raises the SIGTERM it shut down on, so serve's exit says so.
    assert exits == {**{name: 0 for name in exits}, "serve": -signal.SIGTERM}, (exits, logs)
    # A stop is not a failure: every lifecycle is still pending, for the next process.
    assert sum(_pending_by_executor(estate.url).values()) == PROMOTIONS
    assert Counter(statuses.values()).keys() <= REACHED_LIVE, (statuses, logs)
    takeovers = [name for name, text in logs.items() if f'"executor": "{victim}"' in text]
    assert takeovers, f"nobody took over {victim}'s workflows: {logs}"
    # Every price of every promotion applied once at the POS: none lost, none twice.
    applied = _prices_at_pos(estate.url)
    stores = _stores_per_region(estate.url)
    expected = sum(len(skus) * stores[region] for region, skus in estate.scopes)
    assert sum(applied.values()) == expected
    assert set(applied.values()) == {1}, [k for k, n in applied.items() if n > 1]

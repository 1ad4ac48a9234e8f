"""Inbound inventory events applied to positions, batched: events/s on SQLite and PostgreSQL.

    uv run python benchmarks/inbound_inventory.py [--events 200000] [--batch 5000]
        [--database-url postgresql+psycopg://postgres@127.0.0.1:5432/test]

Builds a fresh database (a temporary SQLite file, or a new database on the given
PostgreSQL server, dropped afterwards) with 2,000 items x 100 stores, then feeds
`--events` position updates through `events.inbound.apply_inventory_batches`: one
transaction, one set-based upsert and one `inventory.positions.changed` event per
batch. The first pass inserts the positions, the second updates them (the steady
state of a daily EDI 846 or stock-sync feed). Target: >= 20,000 events/s each.
"""

from __future__ import annotations

import argparse
import os
import platform
import tempfile
import time
import uuid
from datetime import UTC, datetime
from decimal import Decimal

import sqlalchemy as sa

from promoflow.catalog.models import Item, Location
from promoflow.connectors.ports import PositionRecord
from promoflow.events.inbound import apply_inventory_batches
from promoflow.kit.db import make_engine, make_sessionmaker, transaction
from promoflow.migrate import upgrade

ITEMS, STORES = 2000, 100


def _database(url: str | None) -> tuple[str, sa.Engine | None, str | None]:
    """A fresh database URL, and how to drop it afterwards (PostgreSQL)."""
    if url is None:
        path = os.path.join(tempfile.mkdtemp(prefix="inbound-bench-"), "bench.db")
        return f"sqlite:///{path}", None, None
    admin = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    name = f"promoflow_bench_{uuid.uuid4().hex[:8]}"
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    return sa.make_url(url).set(database=name).render_as_string(False), admin, name


def _catalogue(sessions: sa.orm.sessionmaker[sa.orm.Session]) -> None:
    with transaction(sessions) as session:
        session.execute(
            sa.insert(Item),
            [
                {
                    "sku": f"SKU{i:05d}",
                    "name": f"item {i}",
                    "department": "grocery",
                    "category": f"cat{i % 20}",
                    "subcategory": "any",
                    "unit_cost": Decimal("1.00"),
                    "regular_price": Decimal("2.00"),
                    "attributes": {},
                }
                for i in range(ITEMS)
            ],
        )
        session.execute(
            sa.insert(Location),
            [
                {
                    "code": f"S{s:04d}",
                    "name": f"store {s}",
                    "kind": "store",
                    "region": f"R{s % 5}",
                    "attributes": {},
                }
                for s in range(STORES)
            ],
        )


def _records(count: int, on_hand: float) -> list[PositionRecord]:
    as_of = datetime.now(UTC)
    return [
        PositionRecord(
            f"SKU{n % ITEMS:05d}",
            f"S{(n // ITEMS) % STORES:04d}",
            on_hand,
            0.0,
            0.0,
            0.0,
            as_of,
            "edi-846",
        )
        for n in range(count)
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--batch", type=int, default=5000)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    url, admin, name = _database(args.database_url)
    engine = make_engine(url)
    try:
        upgrade(engine)
        sessions = make_sessionmaker(engine)
        _catalogue(sessions)
        backend = engine.dialect.name
        print(f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, {backend}")
        for label, on_hand in (("insert", 10.0), ("update", 12.0)):
            records = _records(args.events, on_hand)
            started = time.perf_counter()
            result = apply_inventory_batches(sessions, records, "edi-846", batch_size=args.batch)
            seconds = time.perf_counter() - started
            assert result.applied == args.events, result.errors
            print(
                f"{label}: {args.events:,} position events in {result.batches} batches of "
                f"{args.batch:,}: {seconds:.2f} s = {args.events / seconds:,.0f} events/s"
            )
    finally:
        engine.dispose()
        if admin is not None:
            with admin.connect() as conn:
                conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()


if __name__ == "__main__":
    main()

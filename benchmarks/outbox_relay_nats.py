"""Outbox relay throughput to NATS JetStream: events/s published and acknowledged.

    uv run python benchmarks/outbox_relay_nats.py [--events 50000] [--batch 500]
        [--nats-url nats://127.0.0.1:4222] [--database-url ...]

Records `--events` events in the outbox of a fresh SQLite database (or a new database
on the given PostgreSQL server), then times `relay_pending` until the outbox is
empty: read a batch in sequence order, publish each event with `Nats-Msg-Id` = its
CloudEvent id and wait for JetStream's acknowledgements, mark the acknowledged ones
relayed. Uses a stream of its own, deleted afterwards. Needs a NATS server with -js.
"""

from __future__ import annotations

import argparse
import os
import platform
import tempfile
import time
import uuid

import sqlalchemy as sa

from promoflow.events.consumers import Dispatcher
from promoflow.events.log import record_event
from promoflow.events.nats_bus import NatsBus
from promoflow.events.relay import relay_pending
from promoflow.kit.db import make_engine, make_sessionmaker, transaction
from promoflow.migrate import upgrade


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=50_000)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--nats-url", default="nats://127.0.0.1:4222")
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    admin, name = None, None
    if args.database_url:
        admin = sa.create_engine(args.database_url, isolation_level="AUTOCOMMIT")
        name = f"promoflow_bench_{uuid.uuid4().hex[:8]}"
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
        url = sa.make_url(args.database_url).set(database=name).render_as_string(False)
    else:
        url = f"sqlite:///{os.path.join(tempfile.mkdtemp(prefix='relay-bench-'), 'bench.db')}"
    engine = make_engine(url)
    tag = uuid.uuid4().hex[:6]
    bus: NatsBus | None = None
    try:
        upgrade(engine)
        sessions = make_sessionmaker(engine)
        for start in range(0, args.events, 5000):
            with transaction(sessions) as session:
                for n in range(start, min(start + 5000, args.events)):
                    record_event(
                        session,
                        "purchase_order.acknowledged",
                        f"purchase_order/PO-{n}",
                        {"number": f"PO-{n}", "status": "acknowledged", "promotion_id": None},
                    )
        bus = NatsBus(
            Dispatcher(sessions), args.nats_url, f"BENCH_{tag}", subject_prefix=f"bench{tag}."
        )
        bus.start()
        print(
            f"{platform.machine()}, {os.cpu_count()} cores, {engine.dialect.name}, "
            f"batch {args.batch}"
        )
        started = time.perf_counter()
        relayed = 0
        while moved := relay_pending(sessions, bus, batch=args.batch):
            relayed += moved
        seconds = time.perf_counter() - started
        assert relayed == args.events, relayed
        assert bus.stream_messages() == args.events
        print(f"relayed {relayed:,} events in {seconds:.2f} s = {relayed / seconds:,.0f} events/s")
    finally:
        if bus is not None:
            bus.delete_stream()
            bus.close()
        engine.dispose()
        if admin is not None:
            with admin.connect() as conn:
                conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()


if __name__ == "__main__":
    main()

"""Chaos (b): the NATS server is killed mid-stream and restarted on the same store.

The outbox keeps filling while the server is down; the relay keeps what JetStream
did not acknowledge and publishes it when the server is back; consumers pick up
where their durable state says. Every event must be applied exactly once.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from events_support import effects
from sqlalchemy.orm import Session, sessionmaker
from test_nats_bus import applied, recording, wait_until

from promoflow.events.consumers import Dispatcher
from promoflow.events.log import record_event
from promoflow.events.models import Event
from promoflow.events.nats_bus import NatsBus
from promoflow.events.relay import OutboxRelay
from promoflow.kit.db import transaction

NATS_SERVER = "/usr/sbin/nats-server"
EVENTS, WRITERS_BATCH = 600, 20
pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class NatsServer:
    """Our own nats-server with JetStream on a store directory that outlives it."""

    def __init__(self, store: Path) -> None:
        self.port = _free_port()
        self.store = store
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"

    def start(self) -> None:
        command = [NATS_SERVER, "-js", "-sd", str(self.store), "-a", "127.0.0.1"]
        self.process = subprocess.Popen(
            [*command, "-p", str(self.port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), 0.2).close()
                return
            except OSError:
                time.sleep(0.05)
        raise AssertionError(f"nats-server did not listen on {self.port}")

    def kill(self) -> None:
        """SIGKILL: no flush, no goodbye, as a crashed host would."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)


@pytest.fixture
def nats_server(tmp_path: Path) -> Iterator[NatsServer]:
    if not os.access(NATS_SERVER, os.X_OK) and shutil.which("nats-server") is None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{NATS_SERVER} is missing; CI needs it for the chaos test")
        pytest.skip(f"{NATS_SERVER} is not installed")
    server = NatsServer(tmp_path / "jetstream")
    server.start()
    yield server
    if server.process is not None and server.process.poll() is None:
        server.process.terminate()
        server.process.wait(timeout=10)


def _write_outbox(sessions: sessionmaker[Session], ids: list[str], stop: threading.Event) -> None:
    """The application keeps recording events (in its own transactions) throughout."""
    for start in range(0, EVENTS, WRITERS_BATCH):
        with transaction(sessions) as session:
            for n in range(start, start + WRITERS_BATCH):
                event = record_event(
                    session,
                    "purchase_order.acknowledged",
                    f"purchase_order/PO-{n}",
                    {"number": f"PO-{n}", "status": "acknowledged", "promotion_id": None},
                )
                ids.append(event.id)
        time.sleep(0.02)
        if stop.is_set():
            return


def test_a_nats_restart_mid_stream_loses_nothing_and_applies_nothing_twice(
    sessions: sessionmaker[Session], nats_server: NatsServer
) -> None:
    bus = NatsBus(
        Dispatcher(sessions, max_attempts=50),
        nats_server.url,
        f"CHAOS_{uuid.uuid4().hex[:6]}",
        ack_wait_seconds=2.0,
        publish_timeout_seconds=1.0,
        fetch_batch=50,
    )
    bus.subscribe(recording("chaos.consumer"))
    bus.start()
    relay = OutboxRelay(sessions, bus, interval=0.05)
    relay.start()
    ids: list[str] = []
    stop = threading.Event()
    writer = threading.Thread(target=_write_outbox, args=(sessions, ids, stop))
    writer.start()
    try:
        wait_until(lambda: len(applied(sessions, "chaos.consumer")) >= EVENTS // 4)
        nats_server.kill()  # mid-stream: relaying and consuming are both under way
        during = len(applied(sessions, "chaos.consumer"))
        time.sleep(1.5)  # the outbox keeps filling while the server is down
        nats_server.start()
        writer.join(timeout=60)
        wait_until(lambda: len(applied(sessions, "chaos.consumer")) >= EVENTS, timeout=60)
        time.sleep(2.5)  # past the ack wait: any redelivery would have landed by now
    finally:
        stop.set()
        writer.join(timeout=10)
        relay.stop()
        bus.close()

    assert during < EVENTS, "the server went down after everything was applied: no chaos"
    counts = Counter(applied(sessions, "chaos.consumer"))
    assert set(counts) == set(ids) and len(ids) == EVENTS  # nothing lost
    assert [i for i, n in counts.items() if n > 1] == []  # nothing applied twice
    with sessions() as session:
        unrelayed = session.scalar(sa.select(sa.func.count()).where(Event.relayed_at.is_(None)))
        assert unrelayed == 0
        assert session.scalar(sa.select(sa.func.count()).select_from(effects)) == EVENTS

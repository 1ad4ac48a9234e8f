"""Two worker processes create the same purchase order with the same key at one instant.

The parent enables a connection in a shared database and starts two copies of this
file as workers. Each worker reaches the purchase-order port the way the workflow's
step does (`registry.get_purchase_order_system`), says it is ready, waits for the
parent's "go" on stdin, then submits; it prints what it got back as one JSON line.

Usage (worker): python purchase_order_race.py DATABASE_URL KEY ORDER_JSON
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import asdict
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Engine

from promoflow.connectors import registry
from promoflow.connectors.ports import PurchaseOrderRequest
from promoflow.integration import connections
from promoflow.integration import service as integration
from promoflow.kit.db import make_engine, make_sessionmaker, transaction

WORKER = Path(__file__).resolve()


def enable_connection(engine: Engine, name: str, connector: str, config: dict[str, Any]) -> None:
    """Add the connection serving purchase orders and enable it (its test must pass)."""
    sessions = make_sessionmaker(engine)
    with transaction(sessions) as session:
        integration.add_connection(
            session, name=name, connector=connector, config=config, serves=["purchase_orders"]
        )
    connections.enable(sessions, name, "race-test")


def race(
    engine: Engine, key: str, order: PurchaseOrderRequest, env: dict[str, str]
) -> list[dict[str, Any]]:
    """Start two workers, release them together; what each caller got back."""
    url = engine.url.render_as_string(hide_password=False)
    payload = json.dumps({**asdict(order), "due": order.due.isoformat()})
    workers = [
        subprocess.Popen(
            [sys.executable, str(WORKER), url, key, payload],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, **env},
        )
        for _ in range(2)
    ]
    try:
        for worker in workers:
            assert worker.stdout is not None
            line = worker.stdout.readline()
            assert line.strip() == "ready", f"worker did not start: {line!r} {_stderr(worker)}"
        for worker in workers:  # both are blocked on stdin: they go at one instant
            assert worker.stdin is not None
            worker.stdin.write("go\n")
            worker.stdin.flush()
        answers = []
        for worker in workers:
            out, err = worker.communicate(timeout=120)
            assert out.strip(), f"worker answered nothing: {err[-2000:]}"
            answers.append(json.loads(out.strip().splitlines()[-1]))
        return answers
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.kill()
                worker.wait()


def _stderr(worker: subprocess.Popen[str]) -> str:
    worker.kill()
    _, err = worker.communicate()
    return err[-2000:]


def main() -> None:
    url, key, payload = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
    sessions = make_sessionmaker(make_engine(url))
    order = PurchaseOrderRequest(
        number=payload["number"],
        supplier_code=payload["supplier_code"],
        destination_code=payload["destination_code"],
        due=date.fromisoformat(payload["due"]),
        lines=tuple((str(sku), float(units)) for sku, units in payload["lines"]),
    )
    portal = registry.get_purchase_order_system(sessions)
    print("ready", flush=True)
    sys.stdin.readline()
    try:
        answer = {"number": portal.submit_purchase_order(key, order)}
    except Exception as error:
        answer = {"error": f"{type(error).__name__}: {error}"}
    print(json.dumps(answer), flush=True)


if __name__ == "__main__":
    main()

"""A fresh database and a `promoflow serve` process, for the benchmarks that load the API."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import sqlalchemy as sa

PROMOFLOW = str(Path(sys.executable).with_name("promoflow"))


def fresh_database_url(admin_url: str, workdir: Path) -> str:
    """A new empty PostgreSQL database beside `admin_url`'s, or a SQLite file in `workdir`."""
    if not admin_url.startswith("postgresql"):
        return f"sqlite:///{workdir / 'bench.db'}"
    name = f"promoflow_bench_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return sa.make_url(admin_url).set(database=name).render_as_string(hide_password=False)


@dataclass
class ServeProcess:
    url: str
    log: Path
    process: subprocess.Popen[bytes]

    def count(self, text: str) -> int:
        """Lines of the server's output that contain `text`."""
        return sum(text in line for line in self.log.read_text(errors="replace").splitlines())


def promoflow_env(url: str, workdir: Path, extra: Mapping[str, str]) -> dict[str, str]:
    """This machine's environment without PROMOFLOW_ settings, plus the benchmark's own."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PROMOFLOW_")}
    env.update(
        PROMOFLOW_DATABASE_URL=url,
        PROMOFLOW_DATA_DIR=str(workdir),
        PROMOFLOW_DBOS_LOG_LEVEL="ERROR",
        PROMOFLOW_LOG_LEVEL="WARNING",
    )
    env.update(extra)
    return env


@contextmanager
def serve_process(
    url: str,
    workdir: Path,
    extra: Mapping[str, str],
    port: int = 8731,
    command: Sequence[str] = (PROMOFLOW, "serve"),
) -> Iterator[ServeProcess]:
    """`command --port <port>` (`promoflow serve`), once it answers /readyz; SIGTERM after."""
    log = workdir / f"serve-{port}.log"
    with log.open("wb") as handle:
        process = subprocess.Popen(
            [*command, "--port", str(port)],
            env=promoflow_env(url, workdir, extra),
            stdout=handle,
            stderr=subprocess.STDOUT,
        )
    server = ServeProcess(url=f"http://127.0.0.1:{port}", log=log, process=process)
    try:
        deadline = time.monotonic() + 180
        while True:
            if process.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"serve did not start:\n{log.read_text(errors='replace')}")
            try:
                if httpx.get(f"{server.url}/readyz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            time.sleep(0.3)
        yield server
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()

"""The processes users run (`promoflow serve`, `worker`, the CLI), started for real.

Each process gets its environment from the test (no PROMOFLOW_ variable of the
test's own leaks in), writes its output to a log file the failure message
quotes, and is stopped (SIGTERM, then SIGKILL) whatever the test did.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

# The console script the package installs: what an operator types.
PROMOFLOW = str(Path(sys.executable).with_name("promoflow"))


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def process_env(database_url: str, data_dir: Path, **settings: str) -> dict[str, str]:
    """The environment of a promoflow process: this machine's, minus the test's PROMOFLOW_."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PROMOFLOW_")}
    env.update(
        PROMOFLOW_DATABASE_URL=database_url,
        PROMOFLOW_DATA_DIR=str(data_dir),
        PROMOFLOW_DBOS_LOG_LEVEL="ERROR",
    )
    env.update({f"PROMOFLOW_{name.upper()}": value for name, value in settings.items()})
    return env


def run_cli(args: list[str], env: Mapping[str, str], timeout: float = 120) -> str:
    """Run `promoflow <args>`; return its output, or fail the test with it."""
    done = subprocess.run(
        [PROMOFLOW, *args],
        env=dict(env),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, f"promoflow {' '.join(args)} exited {done.returncode}:\n{output}"
    return output


@dataclass
class Process:
    """A running promoflow process and the file its output goes to."""

    process: subprocess.Popen[bytes]
    log: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def alive(self) -> bool:
        return self.process.poll() is None

    def kill(self) -> None:
        """SIGKILL: the crash a test wants, with no chance to clean up."""
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self, grace: float = 20.0) -> int | None:
        """SIGTERM, as an orchestrator stops it: its exit code, or None if it needed SIGKILL."""
        if not self.alive():
            return self.process.returncode
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            self.kill()
            return None


@dataclass
class Server(Process):
    url: str


def _start(args: list[str], env: Mapping[str, str], log: Path) -> Process:
    handle = log.open("wb")
    try:
        process = subprocess.Popen(
            [PROMOFLOW, *args], env=dict(env), stdout=handle, stderr=subprocess.STDOUT
        )
    finally:
        handle.close()  # the child holds its own descriptor
    return Process(process=process, log=log)


def _stop(process: Process) -> None:
    process.stop()


@contextmanager
def serving(env: Mapping[str, str], log: Path, *, ready_within: float = 120.0) -> Iterator[Server]:
    """`promoflow serve` on a free port, once /readyz answers 200."""
    port = free_port()
    started = _start(["serve", "--host", "127.0.0.1", "--port", str(port)], env, log)
    server = Server(process=started.process, log=log, url=f"http://127.0.0.1:{port}")
    try:
        _wait_ready(server, ready_within)
        yield server
    finally:
        _stop(server)


def _wait_ready(server: Server, within: float) -> None:
    deadline = time.monotonic() + within
    # One client for all the polls: each new one loads the CA bundle (tens of ms of
    # CPU), which five polls a second took from the server starting on two cores.
    with httpx.Client(base_url=server.url, timeout=2) as client:
        while time.monotonic() < deadline:
            if not server.alive():
                raise AssertionError(
                    f"promoflow serve exited {server.process.returncode} before it was ready:\n"
                    f"{server.output()}"
                )
            try:
                if client.get("/readyz").status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.2)
    raise AssertionError(f"promoflow serve not ready within {within:.0f} s:\n{server.output()}")


@contextmanager
def working(env: Mapping[str, str], log: Path) -> Iterator[Process]:
    """`promoflow worker` (stopped, or killed if it will not stop, at the end)."""
    process = _start(["worker"], env, log)
    try:
        yield process
    finally:
        _stop(process)

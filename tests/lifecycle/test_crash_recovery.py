"""Kill the worker with SIGKILL mid-publication; the restarted worker finishes the job
and the POS has received every price exactly once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import sqlalchemy as sa
from lifecycle_support import Planned, status_of

from promoflow.config import Settings
from promoflow.connectors.sandbox import faults
from promoflow.connectors.sandbox.models import SandboxChannelPrice
from promoflow.lifecycle import commands
from promoflow.runtime import Runtime

WORKER = Path(__file__).with_name("crash_worker.py")


def _worker(settings: Settings, promotion_id: int, mode: str) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "PROMOFLOW_DATABASE_URL": settings.resolved_database_url(),
        "PROMOFLOW_EXECUTOR_ID": "crash-worker",  # the same id both times: recovery
        "PROMOFLOW_SECONDS_PER_BUSINESS_HOUR": str(settings.seconds_per_business_hour),
        "PROMOFLOW_PUBLICATION_PART_SIZE": "4",
        "PROMOFLOW_DBOS_LOG_LEVEL": "ERROR",
    }
    return subprocess.Popen(
        [sys.executable, str(WORKER), str(promotion_id), mode],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )


def _pos_rows(rt: Runtime, code: str) -> list[tuple[str, str]]:
    with rt.sessions() as session:
        return [
            (r.sku, r.location_code)
            for r in session.execute(
                sa.select(SandboxChannelPrice.sku, SandboxChannelPrice.location_code).where(
                    SandboxChannelPrice.system == "sandbox-pos",
                    SandboxChannelPrice.publication_key.like(f"{code}-r%"),
                )
            ).all()
        ]


def _wait(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.mark.slow
def test_sigkill_mid_publication_then_restart_publishes_each_price_once(
    rt: Runtime, plan_promotion: Callable[..., Planned]
) -> None:
    planned = plan_promotion(items=3, channels=["pos"])
    with rt.sessions() as session:
        from promoflow.promotions import repository

        stores = len(repository.scope_locations(session, planned.promotion_id))
    expected = 3 * stores
    # A slow POS (0.3 s a call, 4 prices a call) keeps publication in flight long enough.
    faults.set_faults(rt.sessions, "sandbox-pos", latency_ms=300)
    first = _worker(rt.settings, planned.promotion_id, "submit")
    second: subprocess.Popen[bytes] | None = None
    try:
        _wait(lambda: len(_pos_rows(rt, planned.code)) >= 8, 90, "the first parts to land")
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
        landed = len(_pos_rows(rt, planned.code))
        assert 0 < landed < expected, "the kill must land mid-publication"
        assert status_of(planned.promotion_id)[0] == "publishing"

        # DBOS 3.4 recovers by re-enqueuing the workflow; any live process of the
        # same application version may pick it up (here the restarted worker or
        # this test's own runtime). Either way it must finish without repeats.
        second = _worker(rt.settings, planned.promotion_id, "recover")
        _wait(
            lambda: status_of(planned.promotion_id)[0] == "live",
            120,
            "the recovered workflow to go live",
        )
    finally:
        faults.clear_faults(rt.sessions, "sandbox-pos")
        for process in (first, second):
            if process is not None and process.poll() is None:
                process.kill()
                process.wait(timeout=10)
    rows = _pos_rows(rt, planned.code)
    from promoflow.events.models import Event

    with rt.sessions() as session:
        attempts = session.execute(
            sa.select(Event.data)
            .where(
                Event.promotion_id == planned.promotion_id,
                Event.type.like("io.promoflow.publication.%"),
            )
            .order_by(Event.sequence)
        ).all()
    assert len(rows) == expected, attempts
    commands.cancel_promotion(
        planned.promotion_id, "ada.admin", "operations_admin", "test over"
    )  # leave no workflow running
    assert len(set(rows)) == expected  # no item-store price applied twice

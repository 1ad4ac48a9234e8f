"""Kill the worker while the workflow waits for a planner; the planner decides while no
worker runs; the restarted worker applies the decision, and the DC ships it once."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import sqlalchemy as sa
from lifecycle_support import make_planned, recommendation, stock_of

from promoflow import policies
from promoflow.config import Settings
from promoflow.connectors.sandbox.models import SandboxRequest
from promoflow.events.models import Event
from promoflow.lifecycle import commands
from promoflow.runtime import Runtime

WORKER = Path(__file__).with_name("planning_crash_worker.py")
DC = "DC-01"


def review_everything_policy(folder: Path) -> Path:
    """The bundled policies, with planning's auto-apply limits at zero: every plan waits."""
    bundled = Path(policies.__file__).parent
    for source in bundled.glob("*.yaml"):
        text = source.read_text()
        if source.name == "planning.yaml":
            text = re.sub(r"(max_\w+): [0-9.]+", r"\1: 0", text)
        (folder / source.name).write_text(text)
    return folder


def _worker(settings: Settings, promotion_id: int, mode: str) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "PROMOFLOW_DATABASE_URL": settings.resolved_database_url(),
        "PROMOFLOW_EXECUTOR_ID": "planning-crash-worker",  # the same id both times: recovery
        "PROMOFLOW_SECONDS_PER_BUSINESS_HOUR": str(settings.seconds_per_business_hour),
        "PROMOFLOW_DBOS_LOG_LEVEL": "ERROR",
        # However small this run's forecast, the allocation must wait for the planner.
        "PROMOFLOW_POLICY_DIR": str(settings.policy_dir),
    }
    return subprocess.Popen(
        [sys.executable, str(WORKER), str(promotion_id), mode],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )


def _wait(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def _applied(rt: Runtime, promotion_id: int) -> int:
    with rt.sessions() as session:
        return int(
            session.scalar(
                sa.select(sa.func.count())
                .select_from(Event)
                .where(
                    Event.promotion_id == promotion_id,
                    Event.type == "io.promoflow.recommendation.applied",
                    Event.data["kind"].as_string() == "allocation",
                )
            )
            or 0
        )


@pytest.mark.slow
def test_sigkill_while_waiting_for_the_planner_then_restart_ships_the_edit_once(
    rt: Runtime, tmp_path: Path
) -> None:
    planned = make_planned(rt, items=4, weeks_of_cover=0.0, dc_units=600.0, discount_percent=30)
    settings = rt.settings.model_copy(update={"policy_dir": review_everything_policy(tmp_path)})
    first = _worker(settings, planned.promotion_id, "submit")
    second: subprocess.Popen[bytes] | None = None
    try:

        def waiting() -> bool:
            found = recommendation(rt, planned.promotion_id, "allocation")
            return found is not None and found[0].status == "proposed"

        try:
            _wait(waiting, 90, "the allocation to wait for a planner")
        except AssertionError:
            first.kill()
            output = first.communicate(timeout=10)[0].decode(errors="replace")[-3000:]
            found = recommendation(rt, planned.promotion_id, "allocation")
            status = None if found is None else found[0].status
            raise AssertionError(f"allocation status {status!r}; worker said:\n{output}") from None
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)

        # The planner decides while no worker runs: the decision is committed and the
        # wake-up waits in DBOS until a process recovers the workflow.
        found = recommendation(rt, planned.promotion_id, "allocation")
        assert found is not None
        allocation, lines = found
        first_line = lines[0]
        pack = first_line.details["case_pack"]
        commands.decide_recommendation(
            allocation.id,
            "edit",
            "sasha.supply",
            "supply_chain_planner",
            reason="one pack fewer for the refit store",
            changes={first_line.id: first_line.quantity_proposed - pack},
        )
        assert _applied(rt, planned.promotion_id) == 0

        second = _worker(settings, planned.promotion_id, "recover")
        _wait(lambda: _applied(rt, planned.promotion_id) > 0, 120, "the recovered workflow")
    finally:
        for process in (first, second):
            if process is not None and process.poll() is None:
                process.kill()
                process.wait(timeout=10)
    found = recommendation(rt, planned.promotion_id, "allocation")
    assert found is not None
    allocation, lines = found
    assert allocation.status == "edited"
    shipped: dict[str, float] = {}
    for line in lines:
        shipped[line.details["sku"]] = shipped.get(line.details["sku"], 0.0) + float(
            line.quantity_decided or 0.0
        )
    for sku in planned.skus:
        assert stock_of(rt, sku, DC)[0] == 600.0 - shipped.get(sku, 0.0)  # shipped once
    assert _applied(rt, planned.promotion_id) == 1
    with rt.sessions() as session:
        outcomes = session.scalars(
            sa.select(SandboxRequest.outcome).where(
                SandboxRequest.system == "sandbox-wms",
                SandboxRequest.operation == "transfer_stock",
                SandboxRequest.key.like(f"{planned.code}-r1-allocation-%"),
            )
        ).all()
    assert outcomes.count("applied") == 1
    commands.cancel_promotion(
        planned.promotion_id, "ada.admin", "operations_admin", "test over"
    )  # leave no workflow running

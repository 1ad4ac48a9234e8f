"""A workflow checkpointed by the code before the lifecycle split recovers after it.

`fixtures/inflight-ee3ee7f.db` was written by commit ee3ee7f (lifecycle/ still held
planning_flow, planning_steps, planning_tx, stock_moves, sell_through_tx): one
promotion live, past its allocation, replenishment, publication and a sell-through
check, its process killed with SIGKILL (see fixtures/README.md). Recovered with this
tree, DBOS replays every recorded step and transaction by name and unpickles their
outputs; a step whose name changed fails the run with DBOSUnexpectedStepError, and
a pickled class that moved fails it on unpickling. Its window is long over, so the
workflow ends, analyses, posts to finance and closes.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

FIXTURES = Path(__file__).with_name("fixtures")
DATABASE = FIXTURES / "inflight-ee3ee7f.db"
WORKFLOW_ID = "promotion-1-rev-1"
EXECUTOR_ID = "inflight-fixture"  # the id that held the workflow when it was killed


def _rows(database: Path, query: str) -> list[tuple[object, ...]]:
    with sqlite3.connect(database) as connection:
        return connection.execute(query).fetchall()


def _recorded_steps(database: Path) -> list[tuple[object, ...]]:
    return _rows(
        database,
        f"SELECT function_id, function_name, output FROM operation_outputs "
        f"WHERE workflow_uuid = '{WORKFLOW_ID}' ORDER BY function_id",
    )


def _count(database: Path, query: str) -> int:
    return int(_rows(database, query)[0][0])  # type: ignore[call-overload]


@pytest.mark.slow
def test_a_workflow_checkpointed_before_the_split_recovers_and_closes(tmp_path: Path) -> None:
    database = tmp_path / "inflight.db"
    shutil.copyfile(DATABASE, database)
    before = _recorded_steps(database)
    names = {name for _, name, _ in before}
    # The fixture really stopped past the moved planning code, mid-flight.
    assert {
        "plan_allocation",
        "propose_allocation",
        "transfer_stock",
        "allocation_applied",
    } <= names
    assert {"raise_replenishment", "submit_purchase_orders", "check_sell_through"} <= names
    assert _rows(database, "SELECT status FROM workflow_status") == [("PENDING",)]
    assert _rows(database, "SELECT status FROM promotions") == [("live",)]

    env = {
        **os.environ,
        "PROMOFLOW_DATABASE_URL": f"sqlite:///{database}",
        "PROMOFLOW_EXECUTOR_ID": EXECUTOR_ID,
        "PROMOFLOW_SECONDS_PER_BUSINESS_HOUR": "0.05",
        "PROMOFLOW_DBOS_LOG_LEVEL": "ERROR",
    }
    worker = subprocess.run(
        [sys.executable, str(FIXTURES / "recover_inflight.py"), WORKFLOW_ID],
        env=env,
        capture_output=True,
        text=True,
        timeout=150,
    )
    output = (worker.stdout + worker.stderr)[-3000:]
    assert worker.returncode == 0, output
    assert "RESULT closed" in worker.stdout, output

    # Every step recorded before the split replayed as it was (same names, same outputs);
    # the wait that was under way when the process died completed after it.
    after = _recorded_steps(database)
    assert set(before) <= set(after)
    last_before = max(int(str(step_id)) for step_id, _, _ in before)
    new_steps = {name for step_id, name, _ in after if int(str(step_id)) > last_before}
    assert {"fetch_actuals", "analyse", "post_finance"} <= new_steps
    assert _rows(database, "SELECT status FROM workflow_status") == [("SUCCESS",)]
    assert _rows(database, "SELECT status FROM promotions") == [("closed",)]
    # Nothing the old code did ran again: one allocation shipped, two POs raised, one
    # sell-through check (the window ended while no process ran), one finance posting.
    events = "SELECT count(*) FROM events WHERE type = 'io.promoflow.{}'"
    assert _count(database, events.format("recommendation.applied")) == 2
    assert _count(database, events.format("purchase_order.raised")) == 2
    assert _count(database, events.format("sell_through.checked")) == 1
    assert _count(database, events.format("promotion.analysed")) == 1
    transfers = (
        "SELECT count(*) FROM sandbox_requests WHERE system = 'sandbox-wms' "
        "AND operation = 'transfer_stock' AND outcome = 'applied'"
    )
    assert _count(database, transfers) == 1
    assert _count(database, "SELECT count(*) FROM sandbox_finance_postings") == 1

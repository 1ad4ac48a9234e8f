"""A new user's first hour, as real processes: the demo's data, approvals and cases.

`first_hour_setup.py` does what `promoflow demo` does to the database (chosen the
demo's way, small retailer, one promotion waiting for its approver, one open case);
then each command runs as `promoflow ...` with nothing but the data folder set, as
after `make demo`. On PostgreSQL the database URL is set, as a deployment sets it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from db_support import BACKEND, fresh_database
from process_support import PROMOFLOW, run_cli

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

SETUP = Path(__file__).with_name("first_hour_setup.py")


@dataclass(frozen=True)
class FirstHour:
    env: dict[str, str]
    data_dir: Path
    setup: dict[str, Any]


def user_env(data_dir: Path, database_url: str | None = None, **settings: str) -> dict[str, str]:
    """This machine's environment without the test's PROMOFLOW_ settings, wide output."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PROMOFLOW_")}
    env.update(PROMOFLOW_DATA_DIR=str(data_dir), COLUMNS="220")
    if database_url is not None:
        env["PROMOFLOW_DATABASE_URL"] = database_url
    env.update({f"PROMOFLOW_{name.upper()}": value for name, value in settings.items()})
    return env


def failing(args: list[str], env: dict[str, str]) -> str:
    """Run `promoflow <args>`, expect exit 2 (a refused input); return its output."""
    done = subprocess.run(
        [PROMOFLOW, *args], env=env, capture_output=True, text=True, timeout=120, check=False
    )
    output = done.stdout + done.stderr
    assert done.returncode == 2, f"promoflow {' '.join(args)} exited {done.returncode}:\n{output}"
    return output


@pytest.fixture(scope="module")
def first_hour(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FirstHour]:
    data_dir = tmp_path_factory.mktemp("first-hour")
    with contextmanager(fresh_database)(tmp_path_factory, "firsthour") as url:
        # SQLite: no URL at all, so every command finds the default file the demo filled.
        env = user_env(data_dir, url if BACKEND == "postgresql" else None)
        done = subprocess.run(
            [sys.executable, str(SETUP)],
            # Real business hours: nothing falls due while the commands run.
            env={**env, "PROMOFLOW_SECONDS_PER_BUSINESS_HOUR": "3600"},
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
        setup = json.loads(done.stdout.strip().splitlines()[-1])
        yield FirstHour(env=env, data_dir=data_dir, setup=setup)


def test_every_command_reads_the_database_the_demo_filled(first_hour: FirstHour) -> None:
    if BACKEND != "postgresql":
        assert (first_hour.data_dir / "promoflow.db").exists()
        assert not (first_hour.data_dir / "demo.db").exists()
    listed = run_cli(["promotions", "list"], first_hour.env)
    assert "FIRST-HOUR-1" in listed and "in_approval" in listed
    assert "no promotions yet" not in listed
    stores = json.loads(
        run_cli(["catalog", "locations", "--kind", "store", "--json"], first_hour.env)
    )
    assert stores["total"] == 10  # the small retailer's stores


def test_the_approval_queue_shows_what_an_approver_decides_on(first_hour: FirstHour) -> None:
    task = first_hour.setup["tasks"][0]
    listed = run_cli(["approvals", "list", "--role", task["role"]], first_hour.env)
    row = next(line for line in listed.splitlines() if "FIRST-HOUR-1" in line)
    for shown in ("first hour fortnight", "percent_off", "20%", task["role"], "on_time"):
        assert shown in row, row
    assert "%" in row.split("20%")[1]  # the forecast uplift
    assert any(risk in row for risk in ("low", "medium", "high", "unknown"))
    assert "margin impact" in listed and "€" in row  # in the configured currency (EUR)
    # Nothing of the requester's own promotion is theirs to decide.
    mine = run_cli(
        ["approvals", "list", "--mine", "--role", task["role"], "--by", "mia.merch"],
        first_hour.env,
    )
    assert "FIRST-HOUR-1" not in mine and "no approval task is waiting" in mine


def test_deciding_a_task_from_the_command_line(first_hour: FirstHour) -> None:
    task = first_hour.setup["tasks"][0]
    env = first_hour.env
    decide = ["approvals", "decide", str(task["id"])]
    refused = failing([*decide, "--approve", "--by", "mia.merch", "--role", task["role"]], env)
    assert "requester mia.merch may not approve" in refused
    unknown = failing([*decide, "--approve", "--by", "pat.price", "--role", "pricer"], env)
    assert "role='pricer'" in unknown and "unknown role" in unknown
    undecided = failing([*decide, "--by", "pat.price", "--role", task["role"]], env)
    assert "--approve or --reject" in undecided

    approved = run_cli(
        [*decide, "--approve", "--by", "pat.price", "--role", task["role"], "--comment", "fine"],
        env,
    )
    assert f"task {task['id']}" in approved and "approved by pat.price" in approved
    assert "signal_not_delivered" not in approved
    again = failing([*decide, "--reject", "--by", "pat.price", "--role", task["role"]], env)
    assert "already approved by pat.price" in again
    assert "FIRST-HOUR-1" not in run_cli(["approvals", "list", "--role", task["role"]], env)
    shown = json.loads(run_cli(["promotions", "show", "FIRST-HOUR-1", "--json"], env))
    decided = [a for a in shown["approvals"] if a.get("decided_by") == "pat.price"]
    assert decided, shown["approvals"]


def test_working_an_exception_case_from_the_command_line(first_hour: FirstHour) -> None:
    env = first_hour.env
    case = str(first_hour.setup["case"])
    listed = run_cli(["cases", "list", "--kind", "supplier_shortfall", "--status", "open"], env)
    assert "FIRST-HOUR-1" in listed and "supplier short" in listed
    by_promotion = run_cli(["cases", "list", "--promotion", "FIRST-HOUR-1"], env)
    assert "supplier_shortfall" in by_promotion
    shown = run_cli(["cases", "show", case], env)
    assert "40 of 120 units" in shown and "waive, escalate, reassign" in shown
    assert "kind='bogus'" in failing(["cases", "list", "--kind", "bogus"], env)

    act = ["cases", "act", case]
    planner = ["--by", "sam.plan", "--role", "supply_chain_planner"]
    assert "action='nuke'" in failing([*act, "nuke", *planner], env)
    assert "needs a reason" in failing([*act, "waive", *planner], env)
    not_owner = failing(
        [*act, "waive", "--by", "x", "--role", "merchandiser", "--reason", "r"], env
    )
    assert "owned by supply_chain_planner" in not_owner
    waived = run_cli([*act, "waive", *planner, "--reason", "a smaller launch is fine"], env)
    assert "now resolved" in waived
    resolved = json.loads(run_cli(["cases", "show", case, "--json"], env))
    assert (resolved["status"], resolved["resolution"], resolved["resolved_by"]) == (
        "resolved",
        "waive",
        "sam.plan",
    )
    assert resolved["resolution_reason"] == "a smaller launch is fine"


def test_fresh_says_what_it_deletes_and_never_in_production(tmp_path: Path) -> None:
    database = tmp_path / "promoflow.db"
    database.write_text("an old database")
    production = user_env(tmp_path, environment="production")
    refused = failing(["demo", "--stores", "2"], production)
    assert "--fresh" in refused and "production" in refused
    assert database.read_text() == "an old database"

    wipe = "from promoflow.cli.demo import _demo_settings; _demo_settings(fresh=True)"
    done = subprocess.run(
        [sys.executable, "-c", wipe],
        env=user_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert "deleting" in done.stdout and "promoflow.db" in done.stdout.replace("\n", "")
    assert not database.exists()

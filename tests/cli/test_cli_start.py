"""The command line starts quickly: a command imports only what it uses.

Timing depends on the machine (`benchmarks/cli_start.py` measures it); what a
test can hold honestly is which libraries a start loads. The forecasting stack,
DBOS and the API take seconds to import, Alembic a quarter second, and
`promoflow --help` or a read command needs none of them.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

HEAVY = ("statsforecast", "lightgbm", "mlforecast", "dbos", "fastapi")
# What a read on a database already at its schema heads never loads: Alembic (the
# version table is read directly), the rate-limit library (the settings' plain rates are
# checked without it), and what only serving, syncing, forecasting or policies use.
NOT_FOR_A_READ = (
    *HEAVY,
    "alembic",
    "mako",
    "limits",
    "httpx",
    "yaml",
    "jsonschema",
    "numpy",
    "pandas",
    "polars",
    "nats",
    "redis",
    "promoflow.events.bus",
    "promoflow.events.relay",
    "promoflow.connectors",
    "promoflow.forecasting",
    "promoflow.gates.policy",
    "promoflow.lifecycle.workflows",
)


def loaded_after(
    code: str, names: tuple[str, ...] = HEAVY, env: dict[str, str] | None = None
) -> set[str]:
    """Which of `names` are in sys.modules after a fresh interpreter runs `code`."""
    probe = (
        f"{code}\nimport json, sys\nprint(json.dumps(sorted(set(sys.modules) & set({names!r}))))"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
        env=env,
    )
    return set(json.loads(done.stdout.strip().splitlines()[-1]))


def test_importing_the_cli_loads_no_heavy_library() -> None:
    assert loaded_after("import promoflow.cli.main") == set()


def test_no_command_group_but_workflows_loads_a_heavy_library() -> None:
    """Loading a group (what `promoflow GROUP ...` does first) stays light; `workflows`
    talks to DBOS's own client, so it alone may load DBOS."""
    from promoflow.cli.main import COMMANDS

    groups = [name for name in COMMANDS if name != "workflows"]
    loaded = loaded_after(
        "from promoflow.cli.main import load_command\n"
        f"for group in {groups!r}:\n    load_command(group)"
    )
    assert loaded == set()


def test_the_garbage_collector_paused_for_a_groups_import_runs_again_for_its_command() -> None:
    """`serve` and `worker` run for days: the pause while a group imports must end."""
    loaded = loaded_after(
        "import gc\nfrom promoflow.cli.main import load_without_collecting\n"
        "load_without_collecting('db')\nassert gc.isenabled(), 'collector left off'"
    )
    assert loaded == set()


def test_promotions_list_on_a_current_database_loads_nothing_a_read_does_not_use(
    tmp_path: Path,
) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PROMOFLOW_")}
    env["PROMOFLOW_DATA_DIR"] = str(tmp_path)
    run = "from promoflow.cli.main import app\napp(['promotions', 'list'], standalone_mode=False)"
    first = loaded_after(run, NOT_FOR_A_READ, env)  # creates and migrates the database
    assert "alembic" in first

    loaded = loaded_after(run, NOT_FOR_A_READ, env)

    assert loaded == set()


def test_the_heads_read_from_the_migration_files_are_alembics() -> None:
    """The cheap check stands in for Alembic only if it names the same heads."""
    from alembic.script import ScriptDirectory

    from promoflow.migrate import CORE, DEMO, alembic_config, packaged_heads

    script = ScriptDirectory.from_config(alembic_config("sqlite://"))
    core, demo = script.get_revision(CORE), script.get_revision(DEMO)
    assert core is not None and demo is not None
    assert packaged_heads() == (core.revision, demo.revision)


def test_a_database_behind_its_head_is_still_brought_to_it(tmp_path: Path) -> None:
    from promoflow.migrate import packaged_heads, upgrade

    engine = sa.create_engine(f"sqlite:///{tmp_path / 'behind.db'}")
    upgrade(engine, "0014_console_indexes")

    upgrade(engine)

    with engine.connect() as connection:
        versions = connection.execute(sa.text("SELECT version_num FROM alembic_version"))
        assert set(versions.scalars()) == {packaged_heads()[0]}
    engine.dispose()


@pytest.mark.parametrize(
    "rate", ["1200/minute", "1 / second", "5/hours", "30/day", "2/months", "1/year"]
)
def test_a_plain_rate_checked_without_limits_is_one_limits_reads(rate: str) -> None:
    from promoflow.kit.rates import check_rate, parse_rate

    check_rate("rate_limit_reads", rate)
    assert parse_rate("rate_limit_reads", rate).amount >= 1


@pytest.mark.parametrize("rate", ["0/minute", "twelve/minute", "10/fortnight", "1/minute;2/hour"])
def test_a_rate_that_is_not_one_limit_is_still_refused_naming_the_setting(rate: str) -> None:
    from promoflow.kit.rates import check_rate

    with pytest.raises(ValueError, match=rf"rate_limit_reads: {rate!r}"):
        check_rate("rate_limit_reads", rate)

"""The command line starts quickly: a command imports only what it uses.

Timing depends on the machine (`benchmarks/cli_start.py` measures it); what a
test can hold honestly is which libraries a start loads. The forecasting stack,
DBOS and the API take seconds to import, and `promoflow --help` or a read
command needs none of them.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

HEAVY = ("statsforecast", "lightgbm", "mlforecast", "dbos", "fastapi")


def loaded_after(code: str) -> set[str]:
    """The heavy libraries in sys.modules after a fresh interpreter runs `code`."""
    probe = (
        f"{code}\nimport json, sys\nprint(json.dumps(sorted(set(sys.modules) & set({HEAVY!r}))))"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, check=True
    )
    return set(json.loads(done.stdout.strip().splitlines()[-1]))


def test_importing_the_cli_loads_no_heavy_library() -> None:
    assert loaded_after("import promoflow.cli.main") == set()


@pytest.mark.parametrize("group", ["promotions", "approvals", "cases", "catalog", "db"])
def test_a_read_group_loads_no_forecasting_stack_nor_the_api(group: str) -> None:
    loaded = loaded_after(f"from promoflow.cli.main import load_command\nload_command({group!r})")
    assert loaded == set()

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

"""`promoflow connectors` and `promoflow deadletters` as an operator uses them."""

from __future__ import annotations

import json

from integration_support import SCRIPT, SECRET_ENV, SECRET_VALUE, position_row
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from promoflow.cli.main import app

runner = CliRunner()


def _run(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.output


def test_an_operator_adds_tests_enables_and_syncs_a_connection(
    sessions: sessionmaker[Session],
) -> None:
    code, out = _run(
        "connectors",
        "add",
        "erp-cli",
        "--connector",
        "scripted-erp",
        "--set",
        "base_url=https://erp.example.test",
        "--set",
        "user=promoflow",
        "--set",
        f"password=env:{SECRET_ENV}",
        "--serves",
        "inventory",
    )
    assert code == 0 and "added, disabled" in out
    code, out = _run("connectors", "test", "erp-cli")
    assert code == 0 and "logged in as promoflow" in out
    code, out = _run("connectors", "enable", "erp-cli")
    assert code == 0 and "enabled" in out
    code, out = _run("connectors", "list", "--json")
    listed = json.loads(out)
    assert [c["name"] for c in listed["connections"]] == ["erp-cli"]
    assert SECRET_VALUE not in out

    SCRIPT.pages = [[position_row("NO-SUCH", "NOWHERE", 3)]]
    code, out = _run("connectors", "sync", "erp-cli", "--capability", "inventory")
    assert code == 2 and "nothing of this sync applied" in out
    code, out = _run("deadletters", "list", "--source", "erp-cli")
    assert code == 0 and "quarantine" in out


def test_a_pasted_secret_is_refused_with_exit_code_2(sessions: sessionmaker[Session]) -> None:
    code, out = _run(
        "connectors",
        "add",
        "erp-bad",
        "--connector",
        "scripted-erp",
        "--set",
        "base_url=https://erp.example.test",
        "--set",
        "user=promoflow",
        "--set",
        f"password={SECRET_VALUE}",
        "--serves",
        "inventory",
    )
    assert code == 2 and "config.password" in out and SECRET_VALUE not in out

"""Connection diagnostics as an operator pastes them into a ticket: complete, and never a secret.

The scripted ERP stands for any connector: what is checked here is the framework
(redaction, last calls, who may read them), not a vendor.
"""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient
from integration_support import SECRET_ENV, SECRET_VALUE, as_role
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from promoflow.cli.main import app
from promoflow.connectors.ports import ConnectorError
from promoflow.connectors.resilience import LAST_CALLS, Guard, RetryPolicy
from promoflow.integration import service as connections
from promoflow.kit.db import transaction

URL_PASSWORD = "url-pa55word-in-base-url"
URL_TOKEN = "query-t0ken-in-base-url"
BASE_URL = f"https://svc:{URL_PASSWORD}@erp.example.test/odata?sig={URL_TOKEN}&x=1"
LEAKS = (SECRET_VALUE, URL_PASSWORD, URL_TOKEN)


def _add(sessions: sessionmaker[Session], name: str) -> None:
    with transaction(sessions) as session:
        connections.add_connection(
            session,
            name=name,
            connector="scripted-erp",
            config={"base_url": BASE_URL, "user": "promoflow", "password": f"env:{SECRET_ENV}"},
            serves=["inventory"],
        )


def _echoing_failure(sessions: sessionmaker[Session], name: str) -> None:
    """A call whose error quotes the password and the URL, as a careless system may answer."""
    guard = Guard(name, sessions=sessions, retry=RetryPolicy(attempts=1))

    def login() -> None:
        raise ConnectorError(
            name, f"HTTP 401 from {BASE_URL}: bad password {SECRET_VALUE}", retryable=False
        )

    with pytest.raises(ConnectorError):
        guard.call("login", login)


def test_the_api_shows_versions_health_calls_and_settings_without_a_secret(
    api: TestClient, sessions: sessionmaker[Session]
) -> None:
    _add(sessions, "erp-diag")
    Guard("erp-diag", sessions=sessions).call("read_page", lambda: [1, 2])
    _echoing_failure(sessions, "erp-diag")

    response = api.get(
        "/api/v1/connections/erp-diag/diagnostics", headers=as_role("operations_admin")
    )

    assert response.status_code == 200, response.text
    for leak in LEAKS:
        assert leak not in response.text
    found = response.json()
    assert found["versions"]["promoflow"] and found["versions"]["httpx"]
    assert found["settings"]["password"] == f"<redacted: env:{SECRET_ENV}>"
    assert found["settings"]["base_url"] == "https://erp.example.test/odata?<redacted>"
    assert found["secrets"] == {"password": "readable"}
    assert found["health"]["calls"] == 2 and found["health"]["error_rate"] == 0.5
    newest, older = found["last_calls"]
    assert (older["operation"], older["outcome"], older["error_code"]) == ("read_page", "ok", None)
    assert (newest["operation"], newest["outcome"], newest["error_code"]) == (
        "login",
        "failed",
        "HTTP 401",
    )
    assert "bad password <redacted>" in newest["error"]


def test_only_an_operations_admin_reads_diagnostics_and_an_unknown_connection_is_404(
    api: TestClient, sessions: sessionmaker[Session]
) -> None:
    _add(sessions, "erp-roles")
    for role in ("merchandiser", "integration_client", "auditor"):
        refused = api.get("/api/v1/connections/erp-roles/diagnostics", headers=as_role(role))
        assert refused.status_code == 403, role
        assert "read connection diagnostics" in refused.json()["detail"]
    missing = api.get(
        "/api/v1/connections/no-such-erp/diagnostics", headers=as_role("operations_admin")
    )
    assert missing.status_code == 404
    assert "no-such-erp" in missing.json()["detail"]


def test_the_cli_prints_the_diagnostics_as_json_and_as_tables_without_a_secret(
    sessions: sessionmaker[Session],
) -> None:
    _add(sessions, "erp-cli-diag")
    _echoing_failure(sessions, "erp-cli-diag")
    runner = CliRunner()

    as_json = runner.invoke(app, ["connectors", "diagnostics", "erp-cli-diag", "--json"])
    tables = runner.invoke(app, ["connectors", "diagnostics", "erp-cli-diag"])

    assert as_json.exit_code == 0 and tables.exit_code == 0, as_json.output + tables.output
    for leak in LEAKS:
        assert leak not in as_json.output and leak not in tables.output
    found = json.loads(as_json.output)
    assert [c["operation"] for c in found["last_calls"]] == ["login"]
    assert "last calls (newest first, 1)" in tables.output
    assert f"<redacted: env:{SECRET_ENV}>" in tables.output


def test_the_cli_names_an_unknown_connection() -> None:
    result = CliRunner().invoke(app, ["connectors", "diagnostics", "no-such-erp"])
    assert result.exit_code == 2 and "no connection 'no-such-erp'" in result.output


def test_only_the_last_calls_are_kept(sessions: sessionmaker[Session]) -> None:
    _add(sessions, "erp-busy")
    guard = Guard("erp-busy", sessions=sessions)
    for number in range(LAST_CALLS + 5):
        guard.call(f"page_{number}", lambda: None)
    with sessions() as session:
        from promoflow.connectors.diagnostics import diagnose

        calls = diagnose(session, "erp-busy").last_calls
    assert len(calls) == LAST_CALLS
    assert calls[0]["operation"] == f"page_{LAST_CALLS + 4}"
    assert calls[-1]["operation"] == "page_5"

"""An administrator cannot make a connection read the server's secrets or send them anywhere.

The attack from issue 10: a connection whose secret is `env:PROMOFLOW_API_KEYS` (or
`file:/etc/hostname`) and whose base_url is a listener sends the server's API keys
as a bearer token on its connection test. References, hosts and folders now come
from the server's allow-lists, at configuration and again at call time.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from integration_support import ROLE_KEYS, SECRET_ENV, SECRET_VALUE, as_role
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from listener_support import listening
from promoflow.cli.main import app
from promoflow.config import get_settings
from promoflow.integration import connections as connection_commands
from promoflow.integration.models import Connection
from promoflow.integration.sync import sync
from promoflow.kit.clock import utcnow
from promoflow.kit.errors import InvalidInput

API_KEYS = ",".join(f"{key}:{role}-tester:{role}" for role, key in ROLE_KEYS.items())
ADMIN = as_role("operations_admin")
SCRIPTED = {"base_url": "https://erp.example.test", "user": "promoflow"}
FORBIDDEN = [
    ("password", "env:PROMOFLOW_API_KEYS"),
    ("password", "env:PROMOFLOW_DATABASE_URL"),
    ("password", "file:/etc/hostname"),
    ("base_url", "https://collector.attacker.example.net"),
]


@pytest.fixture
def server_keys(monkeypatch: pytest.MonkeyPatch) -> str:
    """The API keys in the environment, as a real server holds them."""
    monkeypatch.setenv("PROMOFLOW_API_KEYS", API_KEYS)
    return API_KEYS


@pytest.fixture
def no_loopback(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Settings that allow the made-up ERP hosts but not this machine."""
    monkeypatch.setenv("PROMOFLOW_CONNECTOR_ALLOWED_HOSTS", "*.example.test")
    get_settings.cache_clear()
    yield
    monkeypatch.undo()
    get_settings.cache_clear()


def _stored(sessions: sessionmaker[Session], name: str, connector: str, **config: Any) -> None:
    """A connection row written before the allow-lists existed (no check runs)."""
    now = utcnow()
    with sessions.begin() as session:
        session.add(
            Connection(
                name=name,
                connector=connector,
                config=config,
                serves=["inventory"],
                enabled=True,
                rate_limit_per_second=None,
                test_detail="",
                created_at=now,
                updated_at=now,
            )
        )


def _odoo(base_url: str, api_key: str) -> dict[str, Any]:
    return {
        "base_url": base_url,
        "protocol": "json2",
        "database": "prod",
        "api_key": api_key,
        "location_map": "WH/Stock=DC01",
        "page_size": 200,
        "timeout_seconds": 1.0,
    }


@pytest.mark.parametrize(("field", "value"), FORBIDDEN)
def test_the_api_refuses_a_connection_reaching_outside_the_allow_lists(
    api: TestClient, sessions: sessionmaker[Session], server_keys: str, field: str, value: str
) -> None:
    body = {
        "name": "erp-reach",
        "connector": "scripted-erp",
        "config": {**SCRIPTED, "password": f"env:{SECRET_ENV}", field: value},
        "serves": ["inventory"],
    }

    response = api.post("/api/v1/connections", json=body, headers=ADMIN)

    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["field"] == f"config.{field}"
    assert value in response.text and "PROMOFLOW_CONNECTOR_" in response.text
    assert server_keys not in response.text
    assert api.get("/api/v1/connections/erp-reach", headers=ADMIN).status_code == 404


@pytest.mark.parametrize(("field", "value"), FORBIDDEN)
def test_the_cli_refuses_a_connection_reaching_outside_the_allow_lists(
    sessions: sessionmaker[Session], server_keys: str, field: str, value: str
) -> None:
    settings = {**SCRIPTED, "password": f"env:{SECRET_ENV}", field: value}
    arguments = ["connectors", "add", "erp-reach", "--connector", "scripted-erp"]
    for key, setting in settings.items():
        arguments += ["--set", f"{key}={setting}"]

    result = CliRunner().invoke(app, [*arguments, "--serves", "inventory"])

    assert result.exit_code == 2, result.output
    assert f"config.{field}" in result.output and server_keys not in result.output
    listed = CliRunner().invoke(app, ["connectors", "list", "--json"])
    assert json.loads(listed.output)["connections"] == []


def test_a_stored_connection_naming_the_api_keys_sends_nothing_on_its_test(
    api: TestClient, sessions: sessionmaker[Session], server_keys: str
) -> None:
    with listening() as listener:
        _stored(sessions, "odoo-old", "odoo", **_odoo(listener.url, "env:PROMOFLOW_API_KEYS"))

        response = api.post("/api/v1/connections/odoo-old/test", headers=ADMIN)
        assert listener.heard == []
        with pytest.raises(InvalidInput, match=r"config\.api_key"):
            sync(sessions, "odoo-old", "inventory")

    assert listener.heard == []
    assert response.status_code == 200 and response.json()["ok"] is False
    assert "config.api_key" in response.json()["detail"]
    shown = api.get("/api/v1/connections/odoo-old", headers=ADMIN).text
    assert ROLE_KEYS["operations_admin"] not in shown + response.text


def test_a_stored_connection_to_a_host_no_longer_allowed_sends_nothing(
    api: TestClient, sessions: sessionmaker[Session], no_loopback: None
) -> None:
    with listening() as listener:
        _stored(sessions, "odoo-here", "odoo", **_odoo(listener.url, f"env:{SECRET_ENV}"))

        response = api.post("/api/v1/connections/odoo-here/test", headers=ADMIN)
        assert listener.heard == []
        with pytest.raises(InvalidInput, match=r"config\.base_url"):
            sync(sessions, "odoo-here", "inventory")

    assert listener.heard == []
    assert response.json()["ok"] is False
    assert "PROMOFLOW_CONNECTOR_ALLOWED_HOSTS" in response.json()["detail"]


def _test_detail(api: TestClient, sessions: sessionmaker[Session], name: str, ref: str) -> str:
    _stored(sessions, name, "scripted-erp", **SCRIPTED, password=ref)
    check = api.post(f"/api/v1/connections/{name}/test", headers=ADMIN).json()
    assert check["ok"] is False
    return str(check["detail"]).replace(ref, "REF")


def test_the_test_error_reads_the_same_for_a_file_that_exists_and_one_that_does_not(
    api: TestClient, sessions: sessionmaker[Session], connector_allow_lists: Path
) -> None:
    secrets = connector_allow_lists
    (secrets / "leak").symlink_to("/etc/hostname")
    try:
        outside = {
            _test_detail(api, sessions, "erp-host", "file:/etc/hostname"),
            _test_detail(api, sessions, "erp-absent", "file:/etc/promoflow-no-such-secret"),
        }
        inside = {
            _test_detail(api, sessions, "erp-leak", f"file:{secrets / 'leak'}"),
            _test_detail(api, sessions, "erp-missing", f"file:{secrets / 'missing'}"),
            _test_detail(api, sessions, "erp-unset", "env:PROMOFLOW_TEST_NOT_SET_ANYWHERE"),
        }
    finally:
        (secrets / "leak").unlink()

    assert len(outside) == 1, outside
    assert len(inside) == 1, inside
    assert "cannot be read" in inside.pop()
    assert Path("/etc/hostname").read_text().strip() not in outside.pop()


def test_a_secret_in_the_secrets_folder_connects(
    api: TestClient, sessions: sessionmaker[Session], connector_allow_lists: Path
) -> None:
    (connector_allow_lists / "erp-password").write_text(SECRET_VALUE + "\n")
    body = {
        "name": "erp-file",
        "connector": "scripted-erp",
        "config": {**SCRIPTED, "password": "file:erp-password"},
        "serves": ["inventory"],
    }
    try:
        assert api.post("/api/v1/connections", json=body, headers=ADMIN).status_code == 201
        check = connection_commands.run_connection_test(sessions, "erp-file", "olga.ops")
    finally:
        (connector_allow_lists / "erp-password").unlink()
    assert check.ok, check.detail

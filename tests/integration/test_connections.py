"""Connections: validated config with secret references, tested before enabled, routed to."""

from __future__ import annotations

import json
import logging

import pytest
from integration_support import SCRIPT, SECRET_ENV, SECRET_VALUE
from sqlalchemy.orm import Session, sessionmaker
from structlog.testing import capture_logs

from promoflow.connectors import registry
from promoflow.integration import connections as connection_commands
from promoflow.integration import service as connections
from promoflow.kit.errors import Conflict, InvalidInput, NotFound

CONFIG = {
    "base_url": "https://erp.example.test",
    "user": "promoflow",
    "password": f"env:{SECRET_ENV}",
}


def _add(sessions: sessionmaker[Session], name: str = "erp-test", **overrides: object) -> None:
    arguments: dict[str, object] = {
        "name": name,
        "connector": "scripted-erp",
        "config": CONFIG,
        "serves": ["inventory"],
    }
    arguments.update(overrides)
    with sessions.begin() as session:
        connections.add_connection(session, **arguments)  # type: ignore[arg-type]


def test_a_pasted_secret_is_refused_without_echoing_it(sessions: sessionmaker[Session]) -> None:
    with pytest.raises(InvalidInput) as refused:
        _add(sessions, config={**CONFIG, "password": SECRET_VALUE})
    assert refused.value.field == "config.password"
    assert SECRET_VALUE not in str(refused.value)
    assert "env:VARIABLE" in str(refused.value)


@pytest.mark.parametrize(
    ("config", "field", "value"),
    [
        ({**CONFIG, "base_url": "erp.example.test"}, "config.base_url", "erp.example.test"),
        ({**CONFIG, "page_size": "many"}, "config.page_size", "many"),
        ({**CONFIG, "page_size": 0}, "config.page_size", 0),
        ({**CONFIG, "page_size": "20000"}, "config.page_size", 20000),
        ({**CONFIG, "colour": "blue"}, "config.colour", "blue"),
        ({k: v for k, v in CONFIG.items() if k != "user"}, "config.user", None),
    ],
)
def test_bad_settings_name_the_field_and_value(
    sessions: sessionmaker[Session], config: dict[str, object], field: str, value: object
) -> None:
    with pytest.raises(InvalidInput) as refused:
        _add(sessions, config=config)
    assert (refused.value.field, refused.value.value) == (field, value)


def test_unknown_connector_and_capability_are_refused(sessions: sessionmaker[Session]) -> None:
    with pytest.raises(NotFound, match=r"installed: .*sandbox"):
        _add(sessions, connector="sap-r2")
    with pytest.raises(InvalidInput) as refused:
        _add(sessions, serves=["finance_posting"])
    assert refused.value.field == "serves[0]"


def test_the_secret_never_appears_in_listings_or_logs(
    sessions: sessionmaker[Session], caplog: pytest.LogCaptureFixture
) -> None:
    _add(sessions)
    caplog.set_level(logging.DEBUG)
    connection_commands.enable(sessions, "erp-test", "olga.ops")
    with sessions() as session:
        listed = json.dumps(connections.list_connections(session))
    assert f"env:{SECRET_ENV}" in listed  # the reference is shown, so an operator can fix it
    assert SECRET_VALUE not in listed
    assert SECRET_VALUE not in caplog.text
    connector = registry.get_inventory_source(sessions)
    assert SECRET_VALUE not in repr(connector._config)  # type: ignore[attr-defined]


def test_a_failing_connection_test_keeps_the_connection_disabled(
    sessions: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    _add(sessions)
    monkeypatch.setenv(SECRET_ENV, "wrong-password")
    with pytest.raises(Conflict, match="401 Unauthorized"):
        connection_commands.enable(sessions, "erp-test", "olga.ops")
    with sessions() as session:
        row = connections.get_connection(session, "erp-test")
        assert (row.enabled, row.test_ok) == (False, False)
    assert registry.get_inventory_source(sessions).system == "sandbox-wms"


def test_an_unset_secret_variable_fails_the_test_naming_the_reference_and_logs_why(
    sessions: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    _add(sessions)
    monkeypatch.delenv(SECRET_ENV)
    with capture_logs() as logs:
        check = connection_commands.run_connection_test(sessions, "erp-test", "olga.ops")
    assert not check.ok
    # The test says which reference failed, not why: that would tell what exists.
    assert f"config.password='env:{SECRET_ENV}': cannot be read" in check.detail
    unreadable = [entry for entry in logs if entry["event"] == "secret_unreadable"]
    assert unreadable[0]["reference"] == f"env:{SECRET_ENV}"
    assert unreadable[0]["cause"] == "not set"


def test_an_enabled_connection_answers_its_port_until_disabled(
    sessions: sessionmaker[Session],
) -> None:
    _add(sessions)
    assert registry.get_inventory_source(sessions).system == "sandbox-wms"
    connection_commands.enable(sessions, "erp-test", "olga.ops")
    assert registry.get_inventory_source(sessions).system == "erp-test"
    assert registry.get_price_publisher("pos", sessions).system == "sandbox-pos"  # not served
    connection_commands.disable(sessions, "erp-test", "olga.ops")
    assert registry.get_inventory_source(sessions).system == "sandbox-wms"


def test_two_connections_cannot_serve_the_same_capability(
    sessions: sessionmaker[Session],
) -> None:
    _add(sessions, "erp-one")
    _add(sessions, "erp-two")
    connection_commands.enable(sessions, "erp-one", "olga.ops")
    with pytest.raises(Conflict, match="'erp-one' already serves inventory"):
        connection_commands.enable(sessions, "erp-two", "olga.ops")


def test_a_connection_down_at_test_time_says_why(sessions: sessionmaker[Session]) -> None:
    _add(sessions)
    SCRIPT.down = True
    check = connection_commands.run_connection_test(sessions, "erp-test", "olga.ops")
    assert not check.ok and "connection refused" in check.detail

"""The commercetools connection: discovery, the connection check, and the client secret."""

from __future__ import annotations

import base64
import logging
import socket

import pytest
from ct_backend_support import CLIENT_ID, SECRET, CommercetoolsStub, ConnectorFactory

from promoflow.connectors.commercetools.connector import CommercetoolsConnector
from promoflow.connectors.framework import Capability, discover
from promoflow.connectors.ports import ConnectorError


def test_the_entry_point_loads_the_connector_with_its_manifest() -> None:
    found = discover()["commercetools"]

    assert found.cls is CommercetoolsConnector
    manifest = CommercetoolsConnector.manifest
    assert manifest.capabilities == (Capability.PRICE_PUBLICATION,)
    assert [f.name for f in manifest.config if f.secret] == ["client_secret"]


def test_the_connection_check_reads_the_project(
    ct_backend: CommercetoolsStub, ct_connector: ConnectorFactory
) -> None:
    check = ct_connector().check_connection()

    assert check.ok, check.detail
    assert "unittest" in check.detail
    assert ct_backend.count("GET", r"^/unittest/?$") == 1


def test_an_unknown_project_fails_the_check_naming_it(ct_connector: ConnectorFactory) -> None:
    check = ct_connector(project_key="no-such-project").check_connection()

    assert not check.ok
    assert "no-such-project" in check.detail


def test_a_wrong_secret_fails_the_check_without_showing_any_secret(
    ct_backend: CommercetoolsStub,
    ct_connector: ConnectorFactory,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    monkeypatch.setenv("PROMOFLOW_TEST_CT_WRONG_SECRET", "wrong-Secret-55aa")
    connector = ct_connector(client_secret="env:PROMOFLOW_TEST_CT_WRONG_SECRET")

    check = connector.check_connection()

    assert not check.ok
    assert "invalid_client" in check.detail
    assert "env:PROMOFLOW_TEST_CT_WRONG_SECRET" in check.detail
    assert "wrong-Secret-55aa" not in check.detail + repr(connector) + caplog.text
    assert ct_backend.count("GET", r"^/unittest/?$") == 0


def test_the_secret_never_reaches_logs_or_repr_on_a_working_connection(
    ct_connector: ConnectorFactory, caplog: pytest.LogCaptureFixture
) -> None:
    # requests-oauthlib logs the token request's headers and body at DEBUG.
    caplog.set_level(logging.DEBUG)
    connector = ct_connector()

    assert connector.check_connection().ok
    basic = base64.b64encode(f"{CLIENT_ID}:{SECRET}".encode()).decode()
    assert SECRET not in caplog.text
    assert basic not in caplog.text
    assert SECRET not in repr(connector) + repr(connector.client)
    assert "env:PROMOFLOW_TEST_CT_SECRET" in repr(connector)


def test_an_unset_secret_variable_fails_the_check_naming_the_variable(
    ct_connector: ConnectorFactory,
) -> None:
    check = ct_connector(client_secret="env:PROMOFLOW_TEST_CT_NOT_SET_ANYWHERE").check_connection()

    assert not check.ok
    assert "PROMOFLOW_TEST_CT_NOT_SET_ANYWHERE" in check.detail


def test_an_unreachable_api_fails_the_check_as_unavailable(ct_connector: ConnectorFactory) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"http://localhost:{port}"
    connector = ct_connector(api_url=url, auth_url=url, attempts=2)

    check = connector.check_connection()
    with pytest.raises(ConnectorError) as raised:
        connector.publish_prices("promo-1", [])

    assert not check.ok
    assert "/oauth/token" in check.detail
    assert raised.value.retryable


def test_an_http_auth_url_is_refused_outside_tests(
    ct_connector: ConnectorFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("OAUTHLIB_INSECURE_TRANSPORT")

    check = ct_connector().check_connection()

    assert not check.ok
    assert "https" in check.detail

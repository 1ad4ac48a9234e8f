"""A commercetools project on the SDK's testing backend, and connectors configured for it."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from ct_backend_support import (
    CLIENT_ID,
    PROJECT,
    SECRET,
    CommercetoolsStub,
    ConnectorFactory,
    seed_estate,
    serve,
)

from promoflow.connectors.commercetools.connector import CommercetoolsConnector
from promoflow.connectors.framework import ConnectorConfig, ConnectorContext
from promoflow.connectors.resilience import Guard, RetryPolicy, reset_breakers

# The day the tests' shop is in: before the March 2026 promotions they publish.
SHOP_DAY = datetime(2026, 2, 20, tzinfo=UTC)


@pytest.fixture
def ct_backend(monkeypatch: pytest.MonkeyPatch) -> Iterator[CommercetoolsStub]:
    """The seeded backend on 127.0.0.1; the client secret is in PROMOFLOW_TEST_CT_SECRET."""
    monkeypatch.setenv("PROMOFLOW_TEST_CT_SECRET", SECRET)
    # The local server speaks plain HTTP, and the shipped auth echoes the scope back in
    # another form than it was asked; oauthlib refuses both unless told otherwise.
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")
    monkeypatch.setenv("OAUTHLIB_RELAX_TOKEN_SCOPE", "1")
    for stub in serve(SECRET):
        seed_estate(stub.repository)
        yield stub
    reset_breakers()


@pytest.fixture
def ct_connector(ct_backend: CommercetoolsStub) -> ConnectorFactory:
    """Build a connector for the backend; keyword arguments override settings."""

    def build(
        *, attempts: int = 3, name: str = "", now: datetime = SHOP_DAY, **overrides: Any
    ) -> CommercetoolsConnector:
        values: dict[str, Any] = {
            "project_key": PROJECT,
            "api_url": ct_backend.url,
            "auth_url": ct_backend.url,
            "client_id": CLIENT_ID,
            "client_secret": "env:PROMOFLOW_TEST_CT_SECRET",
            "timezone": "Europe/Amsterdam",
            "timeout_seconds": 5,
        }
        values.update(overrides)
        config = ConnectorConfig(CommercetoolsConnector.manifest, values)
        connection = name or f"web-shop-{uuid.uuid4().hex[:8]}"
        guard = Guard(
            connection,
            retry=RetryPolicy(attempts=attempts, base_seconds=0.0, max_seconds=0.0),
            sleep=lambda _seconds: None,
        )
        connector = CommercetoolsConnector(config, ConnectorContext(connection, guard))
        connector.clock = lambda: now
        return connector

    return build

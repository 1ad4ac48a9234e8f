"""Integration-layer fixtures: the shared runtime, the scripted ERP registered, clean state."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from integration_support import ROLE_KEYS, SCRIPT, SECRET_ENV, SECRET_VALUE, ScriptedErp
from sqlalchemy.orm import Session, sessionmaker

from promoflow.connectors import registry
from promoflow.connectors.framework import register_connector, unregister_connector
from promoflow.connectors.resilience import reset_breakers
from promoflow.integration.models import Connection


@pytest.fixture
def sessions(seeded: object) -> Iterator[sessionmaker[Session]]:
    """Sessions on the shared seeded runtime with no connection: whatever another file left
    (tests/api adds some) is removed before, and what the test made after."""
    from promoflow.runtime import get_runtime

    factory = get_runtime().sessions
    with factory.begin() as session:
        session.execute(sa.delete(Connection))
    registry.reset()
    register_connector(ScriptedErp)
    SCRIPT.pages, SCRIPT.down, SCRIPT.calls = [], False, 0
    reset_breakers()
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(SECRET_ENV, SECRET_VALUE)
        yield factory
    with factory.begin() as session:
        session.execute(sa.delete(Connection))
    registry.reset()
    reset_breakers()
    unregister_connector("scripted-erp")


@pytest.fixture(scope="module")
def api(runtime: object, test_settings: object) -> Iterator[object]:
    """A client of the app on the running test runtime, with one API key per role."""
    from fastapi.testclient import TestClient

    from promoflow.app import create_app

    keys = ",".join(f"{key}:{role}-tester:{role}" for role, key in ROLE_KEYS.items())
    settings = test_settings.model_copy(update={"api_keys": keys})  # type: ignore[attr-defined]
    with TestClient(create_app(settings, manage_runtime=False)) as client:
        yield client

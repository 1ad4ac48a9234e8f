"""Governance fixtures: a private migrated database with a tiny retailer.

Service tests use this package's own database (`private_engine`), so the hand-made
rows here never meet the seeded retailer. The CLI and API tests run on the shared
test runtime instead and make their own uniquely named rows there.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from fastapi.testclient import TestClient
from governance_support import Retailer, build_retailer
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from db_support import rolled_back_session
from promoflow.config import Settings
from promoflow.kit.roles import ROLES


@pytest.fixture(scope="session")
def engine(private_engine: Callable[[str], Engine]) -> Engine:
    """This package's own migrated database (see `private_engine`)."""
    return private_engine("governance")


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    """A session whose work is rolled back after the test."""
    yield from rolled_back_session(engine)


@pytest.fixture
def retailer(session: Session) -> Retailer:
    return build_retailer(session, "GOV")


def api_key(role: str) -> str:
    """The governance tests' API key of `role` (actor name: `<role>-gov`)."""
    return f"gov-key-{role}-0123456789"


@pytest.fixture(scope="session")
def auth() -> Callable[[str], dict[str, str]]:
    """`auth(role)`: request headers authenticating as that role."""
    return lambda role: {"X-API-Key": api_key(role)}


@pytest.fixture(scope="session")
def client(test_settings: Settings, runtime: object) -> Iterator[TestClient]:
    """A client of the app on the already running test runtime, one key per role."""
    from promoflow.app import create_app

    keys = ",".join(f"{api_key(role)}:{role}-gov:{role}" for role in ROLES)
    settings = test_settings.model_copy(update={"api_keys": keys})
    with TestClient(create_app(settings, manage_runtime=False)) as test_client:
        yield test_client

"""A small seeded retailer of the post-event tests' own, on a fixed calendar.

Its own database (not the shared `seeded` one) because the reconciliation tests
break postings in the sandbox ledger, and a fixed `today` so the history, and so
the recovery figure, is the same on every day the suite runs.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from postevent_support import History
from sqlalchemy.engine import Engine

from promoflow.config import Settings
from promoflow.kit.db import make_sessionmaker
from promoflow.kit.roles import ROLES
from promoflow.scenario.generator import ScenarioSize, generate

TODAY = date(2026, 12, 7)
# The live report's promotions are driven by the lifecycle tests' helpers.
LIFECYCLE_TESTS = str(Path(__file__).resolve().parents[1] / "lifecycle")
if LIFECYCLE_TESTS not in sys.path:
    sys.path.insert(0, LIFECYCLE_TESTS)


def api_key(role: str) -> str:
    """The post-event tests' API key of `role` (actor name: `<role>-postevent`)."""
    return f"postevent-key-{role}-0123456789"


@pytest.fixture(scope="session")
def auth() -> Callable[[str], dict[str, str]]:
    return lambda role: {"X-API-Key": api_key(role)}


@pytest.fixture(scope="session")
def client(test_settings: Settings, runtime: object) -> Iterator[TestClient]:
    """A client of the app on the already running test runtime."""
    from promoflow.app import create_app

    keys = ",".join(f"{api_key(role)}:{role}-postevent:{role}" for role in ROLES)
    settings = test_settings.model_copy(update={"api_keys": keys})
    with TestClient(create_app(settings, manage_runtime=False)) as test_client:
        yield test_client


@pytest.fixture(scope="session")
def history(private_engine: Callable[[str], Engine]) -> History:
    engine = private_engine("postevent")
    sessions = make_sessionmaker(engine)
    generate(sessions, ScenarioSize.small(), seed=7, today=TODAY)
    return History(engine.url.render_as_string(hide_password=False), sessions)

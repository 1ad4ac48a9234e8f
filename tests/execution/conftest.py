"""Execution variance fixtures: promotions driven through the lifecycle on the seeded
retailer (the lifecycle tests' helpers), and an API client with one key per role."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from promoflow.config import Settings
from promoflow.kit.roles import ROLES
from promoflow.runtime import Runtime, get_runtime

LIFECYCLE_TESTS = str(Path(__file__).resolve().parents[1] / "lifecycle")
if LIFECYCLE_TESTS not in sys.path:
    sys.path.insert(0, LIFECYCLE_TESTS)


def api_key(role: str) -> str:
    """The execution tests' API key of `role` (actor name: `<role>-exec`)."""
    return f"exec-key-{role}-0123456789"


@pytest.fixture
def rt(seeded: object) -> Runtime:
    return get_runtime()


@pytest.fixture(scope="session")
def auth() -> Callable[[str], dict[str, str]]:
    return lambda role: {"X-API-Key": api_key(role)}


@pytest.fixture(scope="session")
def client(test_settings: Settings, runtime: object) -> Iterator[TestClient]:
    """A client of the app on the already running test runtime."""
    from promoflow.app import create_app

    keys = ",".join(f"{api_key(role)}:{role}-exec:{role}" for role in ROLES)
    settings = test_settings.model_copy(update={"api_keys": keys})
    with TestClient(create_app(settings, manage_runtime=False)) as test_client:
        yield test_client

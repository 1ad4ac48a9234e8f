"""Fresh databases for scenario tests, migrated with the packaged migrations.

The PostgreSQL pass (PROMOFLOW_TEST_BACKEND=postgresql) creates and drops a
database per fixture on the server at 127.0.0.1:5432.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from scenario_support import TODAY, DatabaseFactory
from sqlalchemy.orm import Session, sessionmaker

from db_support import DatabasePool
from promoflow.kit.db import make_sessionmaker
from promoflow.scenario.generator import ScenarioSize, ScenarioSummary, generate


@pytest.fixture(scope="module")
def fresh_database(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DatabaseFactory]:
    """Makes empty migrated databases; all are dropped after the module."""
    pool = DatabasePool(tmp_path_factory)
    yield lambda: make_sessionmaker(pool.new("scenario"))
    pool.close()


@pytest.fixture(scope="module")
def small_retailer(
    fresh_database: DatabaseFactory,
) -> tuple[sessionmaker[Session], ScenarioSummary]:
    """The small retailer (10 stores, 60 SKUs, two years of weeks), seeded once per module."""
    sessions = fresh_database()
    return sessions, generate(sessions, ScenarioSize.small(), seed=7, today=TODAY)

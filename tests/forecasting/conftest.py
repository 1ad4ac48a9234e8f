"""Forecasting fixtures: a private migrated database.

The database is this package's own (`private_engine`), so the hand-made rows here
never meet the seeded retailer the runtime tests share.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from db_support import rolled_back_session


@pytest.fixture(scope="session")
def engine(private_engine: Callable[[str], Engine]) -> Engine:
    """This package's own migrated database (see `private_engine`)."""
    return private_engine("forecasting")


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    """A session whose work is rolled back after the test."""
    yield from rolled_back_session(engine)

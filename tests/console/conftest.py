"""Console fixtures: a private migrated database and the small retailer of console_support."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from console_support import World
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from db_support import rolled_back_session


@pytest.fixture(scope="session")
def engine(private_engine: Any) -> Engine:
    """This package's own migrated database (see `private_engine`)."""
    return private_engine("console")  # type: ignore[no-any-return]


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    yield from rolled_back_session(engine)


@pytest.fixture
def world(session: Session) -> World:
    return World(session)

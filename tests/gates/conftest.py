"""Gate fixtures: a private migrated database and the hand-made retailer.

The database is this package's own (`private_engine`), so the hand-made rows here
never meet the seeded retailer the runtime tests share.
The retailer itself lives in gate_retail.py so tests can import its helpers.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from gate_retail import Retail, build_retail
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from db_support import rolled_back_session


@pytest.fixture(scope="session")
def engine(private_engine: Callable[[str], Engine]) -> Engine:
    """This package's own migrated database (see `private_engine`)."""
    return private_engine("gates")


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    """A session whose work is rolled back after the test."""
    yield from rolled_back_session(engine)


@pytest.fixture
def retail(session: Session) -> Retail:
    return build_retail(session)

"""Governance fixtures: a private migrated database with a tiny retailer.

Service tests use this package's own database (`private_engine`), so the hand-made
rows here never meet the seeded retailer. The CLI and API tests run on the shared
test runtime instead and make their own uniquely named rows there.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from governance_support import Retailer, build_retailer
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from db_support import rolled_back_session


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

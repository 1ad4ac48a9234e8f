"""Exceptions fixtures: a private migrated database, and one promotion.

The database is this package's own (`private_engine`), so the hand-made rows here
never meet the seeded retailer the runtime tests share.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date

import pytest
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from db_support import rolled_back_session
from promoflow.promotions.models import Promotion


@pytest.fixture(scope="session")
def engine(private_engine: Callable[[str], Engine]) -> Engine:
    """This package's own migrated database (see `private_engine`)."""
    return private_engine("exceptions")


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    """A session whose work is rolled back after the test."""
    yield from rolled_back_session(engine)


@pytest.fixture
def promotion(session: Session) -> Promotion:
    """A submitted promotion whose workflow waits on exception cases."""
    promotion = Promotion(
        code="PRM-X0001",
        name="Autumn snacks",
        requested_by="mia.merch",
        category="Snacks",
        mechanic="percent_off",
        start_date=date(2026, 11, 16),
        end_date=date(2026, 11, 22),
        channels=["pos", "ecommerce"],
        timing={},
        status="scheduled",
        revision=2,
        workflow_id="promotion-1-rev-2",
    )
    session.add(promotion)
    session.flush()
    return promotion

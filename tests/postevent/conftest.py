"""A small seeded retailer of the post-event tests' own, on a fixed calendar.

Its own database (not the shared `seeded` one) because the reconciliation tests
break postings in the sandbox ledger, and a fixed `today` so the history, and so
the recovery figure, is the same on every day the suite runs.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import pytest
from postevent_support import History
from sqlalchemy.engine import Engine

from promoflow.kit.db import make_sessionmaker
from promoflow.scenario.generator import ScenarioSize, generate

TODAY = date(2026, 12, 7)


@pytest.fixture(scope="session")
def history(private_engine: Callable[[str], Engine]) -> History:
    engine = private_engine("postevent")
    sessions = make_sessionmaker(engine)
    generate(sessions, ScenarioSize.small(), seed=7, today=TODAY)
    return History(engine.url.render_as_string(hide_password=False), sessions)

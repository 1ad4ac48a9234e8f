"""What-if fixtures: a seeded retailer of its own whose champion is a trained model.

A private database, so the champion registered here never reaches the lifecycle
tests (which forecast with the history baseline on the shared runtime). The model
is fitted once with few trees: the tests read what it learnt from the seeded
promotions (deeper discounts and displays sell more), not its accuracy.
"""

from __future__ import annotations

import sys
import uuid
from collections.abc import Callable, Iterator
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker
from whatif_support import BACKTEST, CHAMPION, FAST

from db_support import rolled_back_session
from promoflow.forecasting import registry
from promoflow.forecasting.artifacts import save_artifact
from promoflow.forecasting.model import GlobalDemandModel
from promoflow.forecasting.promotion_model import history_panel
from promoflow.forecasting.training import load_estate_history
from promoflow.kit.clock import utcnow
from promoflow.kit.db import make_sessionmaker, transaction
from promoflow.promotions import service as promotions_service
from promoflow.promotions.schemas import PromotionCreate
from promoflow.scenario import picking
from promoflow.scenario.generator import ScenarioSize, generate

LIFECYCLE_TESTS = str(Path(__file__).resolve().parents[1] / "lifecycle")
if LIFECYCLE_TESTS not in sys.path:  # the API tests make drafts with the lifecycle helpers
    sys.path.insert(0, LIFECYCLE_TESTS)


@pytest.fixture(scope="session")
def whatif_engine(private_engine: Callable[[str], Engine]) -> Engine:
    """The seeded retailer with its champion: fitted, stored and approved."""
    engine = private_engine("whatif")
    sessions = make_sessionmaker(engine)
    generate(sessions, ScenarioSize.small(), seed=11)
    with transaction(sessions) as session:
        history = load_estate_history(session)
    model = GlobalDemandModel(FAST).fit(history_panel(history))
    with transaction(sessions) as session:
        registry.register_candidate(
            session, version=CHAMPION, backtest=BACKTEST, data_hash="ab" * 32,
            training_start=str(history["week"].min()), training_end=str(history["week"].max()),
            features=["price", "on_promo", "display", "feature"], registered_by="t",
        )  # fmt: skip
        save_artifact(session, CHAMPION, model, utcnow())
        registry.promote(
            session, CHAMPION, approved_by="ada.admin", role="operations_admin", reason="test"
        )
    return engine


@pytest.fixture(scope="session")
def whatif_sessions(whatif_engine: Engine) -> sessionmaker[Session]:
    return make_sessionmaker(whatif_engine)


def make_draft(sessions: sessionmaker[Session], items: int = 3, **terms: Any) -> str:
    """A committed draft on the first region (15 % off, POS); its code."""
    with transaction(sessions) as session:
        region = picking.regions(session)[0]
        skus = picking.promotable_skus(session, region=region, count=items)
        start = utcnow().date() + timedelta(weeks=3)
        fields: dict[str, Any] = {
            "mechanic": "percent_off", "discount_percent": Decimal(15), "channels": ["pos"],
        }  # fmt: skip
        fields.update(terms)
        request = PromotionCreate(
            code=f"WI-{uuid.uuid4().hex[:8]}", name="what-if draft", start_date=start,
            end_date=start + timedelta(days=6), items=skus, regions=[region], **fields,
        )  # fmt: skip
        return promotions_service.create_promotion(session, request, "mia.merch").code


@pytest.fixture
def draft(whatif_sessions: sessionmaker[Session]) -> str:
    """A three-item draft's code."""
    return make_draft(whatif_sessions)


@pytest.fixture
def single_item_draft(whatif_sessions: sessionmaker[Session]) -> str:
    """A one-item draft's code."""
    return make_draft(whatif_sessions, items=1)


@pytest.fixture
def session(whatif_engine: Engine, draft: str, single_item_draft: str) -> Iterator[Session]:
    """A session on the what-if database whose work is rolled back after the test.

    On SQLite it holds the write lock until then: the drafts are committed first."""
    yield from rolled_back_session(whatif_engine)

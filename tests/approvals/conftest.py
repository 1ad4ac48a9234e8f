"""Approvals fixtures: a private database built from the models, and a tiny catalogue.

The database is this package's own (not the shared `db_url`), so create_all here
never collides with the migrated database the runtime tests use. Once the initial
migration exists these `engine`/`session` overrides can go and the root ones apply.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from promoflow.catalog.models import Item, Location
from promoflow.kit.db import make_engine
from promoflow.promotions.models import Promotion, PromotionItem, PromotionLocation
from promoflow.schema import metadata

BACKEND = os.environ.get("PROMOFLOW_TEST_BACKEND", "sqlite")
PG_ADMIN_URL = os.environ.get(
    "PROMOFLOW_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
NOW = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)

PromotionFactory = Callable[..., Promotion]


def _postgres_database(name: str) -> Iterator[str]:
    admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    except sa.exc.OperationalError as error:
        admin.dispose()
        if os.environ.get("CI") == "true":
            raise
        pytest.skip(f"PostgreSQL at {PG_ADMIN_URL} is not reachable: {error.orig}")
    try:
        yield sa.make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session")
def approvals_db_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """An empty database of its own for the approvals tests."""
    if BACKEND == "postgresql":
        yield from _postgres_database(f"promoflow_test_appr_{uuid.uuid4().hex[:10]}")
    else:
        path: Path = tmp_path_factory.mktemp("approvals_db") / "approvals.db"
        yield f"sqlite:///{path}"


@pytest.fixture(scope="session")
def engine(approvals_db_url: str) -> Iterator[Engine]:
    built = make_engine(approvals_db_url)
    metadata.create_all(built)
    yield built
    built.dispose()


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    """A session whose work is rolled back after the test."""
    connection = engine.connect()
    outer = connection.begin()
    db = Session(bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False)
    try:
        yield db
    finally:
        db.close()
        outer.rollback()
        connection.close()


@pytest.fixture
def catalogue(session: Session) -> dict[str, Item | Location]:
    """Three items (one Baby) and two stores."""
    rows: dict[str, Item | Location] = {
        "COLA": Item(
            sku="COLA",
            name="Cola 1.5 l",
            department="Grocery",
            category="Soft Drinks",
            subcategory="Cola",
            unit_cost=Decimal("1.00"),
            regular_price=Decimal("2.00"),
            attributes={},
        ),
        "CHIPS": Item(
            sku="CHIPS",
            name="Chips 200 g",
            department="Grocery",
            category="Snacks",
            subcategory="Crisps",
            unit_cost=Decimal("1.50"),
            regular_price=Decimal("3.00"),
            attributes={},
        ),
        "WIPES": Item(
            sku="WIPES",
            name="Baby wipes",
            department="Health",
            category="Baby",
            subcategory="Wipes",
            unit_cost=Decimal("2.00"),
            regular_price=Decimal("4.00"),
            attributes={},
        ),
        "S1": Location(code="S1", name="Store 1", kind="store", region="North", attributes={}),
        "S2": Location(code="S2", name="Store 2", kind="store", region="North", attributes={}),
    }
    session.add_all(rows.values())
    session.flush()
    return rows


@pytest.fixture
def make_promotion(session: Session, catalogue: dict[str, Item | Location]) -> PromotionFactory:
    """Create a promotion on given SKUs with given promo prices, in both stores."""
    counter = iter(range(1, 1000))

    def build(
        prices: dict[str, str],
        *,
        requested_by: str = "mia.merch",
        vendor_funding_per_unit: str = "0",
        display_support: bool = False,
        feature_support: bool = False,
        stores: tuple[str, ...] = ("S1", "S2"),
    ) -> Promotion:
        items = [catalogue[sku] for sku in prices]
        categories = sorted({item.category for item in items if isinstance(item, Item)})
        promotion = Promotion(
            code=f"PRM-T{next(counter):04d}",
            name="Test promotion",
            requested_by=requested_by,
            category=categories[0] if len(categories) == 1 else "mixed",
            mechanic="fixed_price",
            start_date=date(2026, 11, 16),
            end_date=date(2026, 11, 22),
            channels=["pos"],
            display_support=display_support,
            feature_support=feature_support,
            vendor_funding_per_unit=Decimal(vendor_funding_per_unit),
            timing={},
            workflow_id="promotion-test-rev-1",
        )
        session.add(promotion)
        session.flush()
        for sku, price in prices.items():
            session.add(
                PromotionItem(
                    promotion_id=promotion.id, item_id=catalogue[sku].id, promo_price=Decimal(price)
                )
            )
        for code in stores:
            session.add(
                PromotionLocation(promotion_id=promotion.id, location_id=catalogue[code].id)
            )
        session.flush()
        return promotion

    return build

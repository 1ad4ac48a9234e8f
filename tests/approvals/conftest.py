"""Approvals fixtures: a private migrated database, and a tiny catalogue.

The database is this package's own (`private_engine`), so the hand-made rows here
never meet the seeded retailer the runtime tests share.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from db_support import rolled_back_session
from promoflow.catalog.models import Item, Location
from promoflow.promotions.models import Promotion, PromotionItem, PromotionLocation

NOW = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)

PromotionFactory = Callable[..., Promotion]


@pytest.fixture(scope="session")
def engine(private_engine: Callable[[str], Engine]) -> Engine:
    """This package's own migrated database (see `private_engine`)."""
    return private_engine("approvals")


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    """A session whose work is rolled back after the test."""
    yield from rolled_back_session(engine)


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

"""API fixtures: an app on the test runtime, one API key per role, a few catalog rows."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from promoflow.config import Settings
from promoflow.kit.roles import ROLES


def api_key(role: str) -> str:
    """The test API key of `role` (actor name: `<role>-tester`)."""
    return f"key-{role}-0123456789"


def _auth(role: str) -> dict[str, str]:
    return {"X-API-Key": api_key(role)}


@pytest.fixture(scope="session")
def auth() -> Callable[[str], dict[str, str]]:
    """`auth(role)`: request headers authenticating as that role."""
    return _auth


@dataclass(frozen=True)
class Catalog:
    skus: list[str]
    regular_prices: dict[str, Decimal]
    stores: list[str]


@pytest.fixture(scope="session")
def api_settings(test_settings: Settings) -> Settings:
    keys = ",".join(f"{api_key(role)}:{role}-tester:{role}" for role in ROLES)
    return test_settings.model_copy(update={"api_keys": keys})


@pytest.fixture(scope="session")
def catalog(seeded: object) -> Catalog:
    """Promotable items every store of one seeded region carries, and two of its stores."""
    from promoflow.catalog.models import Item, Location
    from promoflow.runtime import get_runtime
    from promoflow.scenario import picking

    with get_runtime().sessions() as session:
        region = picking.regions(session)[0]
        skus = picking.promotable_skus(session, region=region, count=3)
        prices = session.execute(sa.select(Item.sku, Item.regular_price).where(Item.sku.in_(skus)))
        stores = session.scalars(
            sa.select(Location.code)
            .where(Location.kind == "store", Location.region == region)
            .order_by(Location.id)
            .limit(2)
        ).all()
        regular_prices = {sku: Decimal(price) for sku, price in prices}
    assert len(skus) == 3, "the seeded region has too few promotable items"
    assert len(stores) == 2, "the seeded region has too few stores"
    return Catalog(skus=skus, regular_prices=regular_prices, stores=list(stores))


@pytest.fixture(scope="session")
def client(api_settings: Settings, catalog: Catalog) -> Iterator[TestClient]:
    """A client of the app on the already running test runtime."""
    from promoflow.app import create_app

    with TestClient(create_app(api_settings, manage_runtime=False)) as test_client:
        yield test_client


@pytest.fixture
def promotion_body(catalog: Catalog) -> dict[str, Any]:
    """A valid 10 %-off request a month out, on two items in two stores."""
    start = date.today() + timedelta(days=30)
    return {
        "name": "API test promotion",
        "mechanic": "percent_off",
        "discount_percent": 10,
        "start_date": start.isoformat(),
        "end_date": (start + timedelta(days=6)).isoformat(),
        "channels": ["pos"],
        "items": catalog.skus[:2],
        "locations": catalog.stores,
    }


@pytest.fixture(scope="session")
def promotion_rows(runtime: object) -> Callable[[], dict[str, int]]:
    """`promotion_rows()`: counts that must not move when a create is refused."""
    return _promotion_rows


def _promotion_rows() -> dict[str, int]:
    from promoflow.events.models import Event
    from promoflow.promotions.models import Promotion, PromotionItem, PromotionLocation
    from promoflow.runtime import get_runtime

    counts: dict[str, Any] = {
        "promotions": sa.select(sa.func.count()).select_from(Promotion),
        "promotion_items": sa.select(sa.func.count()).select_from(PromotionItem),
        "promotion_locations": sa.select(sa.func.count()).select_from(PromotionLocation),
        "created_events": sa.select(sa.func.count())
        .select_from(Event)
        .where(Event.type == "io.promoflow.promotion.created"),
    }
    with get_runtime().sessions() as session:
        return {name: session.scalar(query) or 0 for name, query in counts.items()}

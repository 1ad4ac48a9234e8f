"""A sales sync asks the feed for the live promotions' items and stores, and says so.

Run on a private database with no relay, so only what the sync itself does is seen:
the `sales.reported` event the live-monitoring reaction listens to.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa
from integration_support import SCRIPT, SECRET_ENV, SECRET_VALUE, ScriptedErp
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from promoflow.catalog.models import Item, Location
from promoflow.connectors import registry
from promoflow.connectors.framework import register_connector, unregister_connector
from promoflow.connectors.ports import SalesRecord
from promoflow.events.models import Event
from promoflow.integration import connections as connection_commands
from promoflow.integration import service as connections
from promoflow.integration.models import Connection
from promoflow.integration.sync import sync
from promoflow.kit.clock import utcnow
from promoflow.kit.db import make_sessionmaker
from promoflow.promotions.models import Promotion, PromotionItem, PromotionLocation


@pytest.fixture
def shop(
    private_engine: Callable[[str], Engine], monkeypatch: pytest.MonkeyPatch
) -> Iterator[sessionmaker[Session]]:
    sessions = make_sessionmaker(private_engine("sales_sync"))
    register_connector(ScriptedErp)
    monkeypatch.setenv(SECRET_ENV, SECRET_VALUE)
    SCRIPT.sales, SCRIPT.sales_asked, SCRIPT.down = [], [], False
    today = utcnow().date()
    with sessions.begin() as session:
        session.execute(sa.delete(PromotionItem))
        session.execute(sa.delete(PromotionLocation))
        session.execute(sa.delete(Promotion))
        session.execute(sa.delete(Item))
        session.execute(sa.delete(Location))
        session.execute(sa.delete(Event))
        session.execute(sa.delete(Connection))
        items = [
            Item(
                sku=sku,
                name=sku,
                department="D",
                category="C",
                subcategory="S",
                unit_cost=Decimal("1.00"),
                regular_price=Decimal("2.00"),
                attributes={},
            )
            for sku in ("A-1", "B-2", "C-3")
        ]
        stores = [
            Location(code=code, name=code, kind="store", region="R", attributes={})
            for code in ("S1", "S2")
        ]
        session.add_all(items + stores)
        session.flush()
        for code, status, item, start in [
            ("LIVE-1", "live", items[0], today - timedelta(days=3)),
            ("LIVE-2", "live", items[1], today - timedelta(days=1)),
            ("DRAFT-1", "draft", items[2], today),
        ]:
            promotion = Promotion(
                code=code,
                name=code,
                status=status,
                requested_by="mia",
                mechanic="percent_off",
                discount_percent=Decimal(10),
                start_date=start,
                end_date=today + timedelta(days=4),
                channels=["pos"],
                timing={},
            )
            session.add(promotion)
            session.flush()
            session.add(
                PromotionItem(
                    promotion_id=promotion.id, item_id=item.id, promo_price=Decimal("1.80")
                )
            )
            session.add(PromotionLocation(promotion_id=promotion.id, location_id=stores[0].id))
        connections.add_connection(
            session,
            name="pos-sales",
            connector="scripted-erp",
            config={
                "base_url": "https://pos.example.test",
                "user": "p",
                "password": f"env:{SECRET_ENV}",
            },
            serves=["sales_feed"],
        )
    connection_commands.enable(sessions, "pos-sales", "olga.ops")
    yield sessions
    registry.reset()
    unregister_connector("scripted-erp")


def test_the_feed_is_asked_for_the_live_scope_and_the_arrival_is_reported(
    shop: sessionmaker[Session],
) -> None:
    today = utcnow().date()
    SCRIPT.sales = [
        SalesRecord("A-1", "S1", today, 14.0, Decimal("25.20")),
        SalesRecord("B-2", "S1", today, 3.0, Decimal("5.40")),
    ]
    result = sync(shop, "pos-sales", "sales_feed")
    assert result.records == 2
    assert SCRIPT.sales_asked == [(["A-1", "B-2"], ["S1"], today - timedelta(days=3), today)]
    with shop() as session:
        reported = session.scalars(
            sa.select(Event.data).where(Event.type == "io.promoflow.sales.reported")
        ).all()
    assert len(reported) == 1 and reported[0]["count"] == 2


def test_with_nothing_live_the_feed_is_not_asked(shop: sessionmaker[Session]) -> None:
    with shop.begin() as session:
        session.execute(sa.update(Promotion).values(status="closed"))
    result = sync(shop, "pos-sales", "sales_feed")
    assert (result.records, SCRIPT.sales_asked) == (0, [])

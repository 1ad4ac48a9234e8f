"""The hand-made retailer the gate tests share (imported by conftest and the tests).

Two items (SKU-A cost 2.00 regular 4.00, SKU-B cost 3.00 regular 5.00), two
stores (ST-1, ST-2) and the web node WEB, everything ranged everywhere, one
regular price per item on both channels, 10 units on hand per item-store, and a
25 %-off promotion PRM-T1 over both items at both stores.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from promoflow.catalog.models import Item, Location, Price, Ranging, Supplier
from promoflow.inventory.models import InventoryPosition
from promoflow.promotions.models import (
    ForecastLine,
    Promotion,
    PromotionItem,
    PromotionLocation,
)

NOW = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
START = date(2026, 11, 16)
END = date(2026, 11, 29)


@dataclass
class Retail:
    """The hand-made retailer; `promotion` covers both items at both stores."""

    supplier: Supplier
    items: dict[str, Item]
    stores: dict[str, Location]
    web: Location
    promotion: Promotion

    def forecast(self, session: Session, p90: dict[tuple[str, str], float]) -> None:
        """Store forecast lines for the promotion's revision with the given P90s."""
        for (sku, store), units in p90.items():
            session.add(
                ForecastLine(
                    promotion_id=self.promotion.id,
                    revision=self.promotion.revision,
                    item_id=self.items[sku].id,
                    location_id=self.stores[store].id,
                    baseline_units=units / 2,
                    promoted_units=units * 0.8,
                    p10=units * 0.5,
                    p50=units * 0.8,
                    p90=units,
                    model_version="test",
                    inputs_hash="0" * 64,
                )
            )
        session.flush()

    def position(self, session: Session, sku: str, store: str) -> InventoryPosition:
        found = session.get(InventoryPosition, (self.items[sku].id, self.stores[store].id))
        assert found is not None
        return found


def add_promotion(session: Session, retail_items: dict[str, Item], **fields: Any) -> Promotion:
    """A scheduled 25 %-off promotion on both channels; `fields` override columns."""
    values: dict[str, Any] = {
        "code": "PRM-T1",
        "name": "Autumn deal",
        "status": "scheduled",
        "requested_by": "mia",
        "category": "snacks",
        "mechanic": "percent_off",
        "discount_percent": Decimal(25),
        "start_date": START,
        "end_date": END,
        "channels": ["pos", "ecommerce"],
        "timing": {},
    }
    values.update(fields)
    promotion = Promotion(**values)
    session.add(promotion)
    session.flush()
    return promotion


def build_retail(session: Session) -> Retail:
    """Create the retailer in the session (flushed, not committed)."""
    supplier = Supplier(code="SUP-T1", name="Crunch Ltd")
    session.add(supplier)
    session.flush()
    items = {
        sku: Item(
            sku=sku,
            name=sku,
            department="grocery",
            category="snacks",
            subcategory="crisps",
            supplier_id=supplier.id,
            unit_cost=Decimal(cost),
            regular_price=Decimal(price),
            attributes={},
        )
        for sku, cost, price in (("SKU-A", "2.00", "4.00"), ("SKU-B", "3.00", "5.00"))
    }
    stores = {
        code: Location(code=code, name=code, kind="store", region="north", attributes={})
        for code in ("ST-1", "ST-2")
    }
    web = Location(code="WEB", name="Web shop", kind="ecommerce", region="online", attributes={})
    session.add_all([*items.values(), *stores.values(), web])
    session.flush()
    for item in items.values():
        for location in (*stores.values(), web):
            session.add(Ranging(item_id=item.id, location_id=location.id))
        for channel in ("pos", "ecommerce"):
            session.add(
                Price(
                    item_id=item.id,
                    channel=channel,
                    price_zone="national",
                    amount=item.regular_price,
                    effective_from=date(2026, 1, 1),
                )
            )
        for store in stores.values():
            session.add(InventoryPosition(item_id=item.id, location_id=store.id, on_hand=10.0))
    promotion = add_promotion(session, items)
    for item in items.values():
        session.add(
            PromotionItem(
                promotion_id=promotion.id,
                item_id=item.id,
                promo_price=item.regular_price * Decimal("0.75"),
            )
        )
    for store in stores.values():
        session.add(PromotionLocation(promotion_id=promotion.id, location_id=store.id))
    session.flush()
    return Retail(supplier, items, stores, web, promotion)

"""Hand-made rows and backtest documents the governance tests share."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from promoflow.catalog.models import Item, Location, Supplier
from promoflow.promotions.models import Promotion

DATA_HASH = "ab" * 32
OTHER_DATA_HASH = "cd" * 32


@dataclass(frozen=True)
class Retailer:
    """Two items, a DC, two stores, a supplier and a promotion at revision 2."""

    items: list[int]
    dc: int
    stores: list[int]
    supplier: int
    promotion: Promotion


def build_retailer(session: Session, tag: str) -> Retailer:
    """Hand-made rows whose codes carry `tag`, so several sets can share a database."""
    supplier = Supplier(code=f"SUP-{tag}", name="Crisp Co")
    session.add(supplier)
    session.flush()
    items = [
        Item(
            sku=f"SKU-{tag}-{n}", name=f"Crisps {n}", department="Grocery", category="Snacks",
            subcategory="Crisps", supplier_id=supplier.id, unit_cost=Decimal("1.00"),
            regular_price=Decimal("2.50"), attributes={},
        )
        for n in (1, 2)
    ]  # fmt: skip
    dc = Location(code=f"DC-{tag}", name="North DC", kind="dc", region="North", attributes={})
    session.add_all([*items, dc])
    session.flush()
    stores = [
        Location(
            code=f"ST-{tag}-{n}", name=f"Store {n}", kind="store", region="North",
            serving_dc_id=dc.id, attributes={},
        )
        for n in (1, 2)
    ]  # fmt: skip
    session.add_all(stores)
    promotion = add_promotion(session, f"PRM-{tag}")
    return Retailer(
        items=[item.id for item in items],
        dc=dc.id,
        stores=[store.id for store in stores],
        supplier=supplier.id,
        promotion=promotion,
    )


def add_promotion(session: Session, code: str, status: str = "in_approval") -> Promotion:
    """A promotion at revision 2 (no scope rows: these tests never need them)."""
    promotion = Promotion(
        code=code, name="Autumn snacks", requested_by="mia.merch", category="Snacks",
        mechanic="percent_off", start_date=date(2026, 11, 16), end_date=date(2026, 11, 22),
        channels=["pos"], timing={}, status=status, revision=2,
    )  # fmt: skip
    session.add(promotion)
    session.flush()
    return promotion


def seeded_retailer(session: Session, tag: str) -> Retailer:
    """Ids from the seeded retailer plus a new draft promotion, on the shared runtime database.

    Tests there add no catalogue rows of their own: the demo and lifecycle tests pick
    regions and items from that database and must find only the seeded ones.
    """
    stores = session.scalars(
        sa.select(Location.id).where(Location.kind == "store").order_by(Location.id).limit(2)
    ).all()
    dc = session.scalar(sa.select(Location.id).where(Location.kind == "dc").order_by(Location.id))
    items = session.scalars(sa.select(Item.id).order_by(Item.id).limit(2)).all()
    supplier = session.scalar(sa.select(Supplier.id).order_by(Supplier.id))
    assert len(stores) == 2 and len(items) == 2 and dc is not None and supplier is not None
    return Retailer(
        items=list(items),
        dc=dc,
        stores=list(stores),
        supplier=supplier,
        promotion=add_promotion(session, f"PRM-{tag}", status="draft"),
    )


def unique_tag() -> str:
    return uuid.uuid4().hex[:8].upper()


def backtest_document(
    wape_promo: float | None,
    *,
    wape: float = 0.30,
    cutoff: Any = "2026-06-28",
    horizon: int = 8,
    model: str = "promoflow",
) -> dict[str, Any]:
    """A metrics.json as `promoflow forecast backtest` writes it."""
    return {
        "data": {"rows": 5200, "series": 50, "cutoff": cutoff, "horizon": horizon,
                 "first_period": "2024-07-07", "last_period": "2026-08-23"},
        "models": [
            {"model": model, "kind": "model", "version": "promoflow-lgbm-1", "wape": wape,
             "wape_promo": wape_promo, "bias": 0.02, "seconds": 3.1},
            {"model": "seasonal_naive", "kind": "baseline", "version": None, "wape": 0.45,
             "wape_promo": 0.61, "bias": -0.2, "seconds": 0.2},
        ],
        "best_baseline": "seasonal_naive",
    }  # fmt: skip

"""The rest of the sandbox estate: WMS, supplier portal, store tasks, sales, ERP, registry."""

from __future__ import annotations

import time
import uuid
from datetime import date, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session, sessionmaker

from promoflow.catalog.models import Item, Location, Supplier
from promoflow.connectors import registry
from promoflow.connectors.ports import (
    ConnectorError,
    InventorySource,
    PriceChange,
    PricePublisher,
    PurchaseOrderRequest,
    SalesFeed,
    StoreTaskRequest,
)
from promoflow.connectors.sandbox.client import requests
from promoflow.connectors.sandbox.erp import SandboxFinance, SandboxItemMaster, change_item
from promoflow.connectors.sandbox.pricing import SandboxPricePublisher
from promoflow.connectors.sandbox.sales_feed import SandboxSalesFeed
from promoflow.connectors.sandbox.store_tasks import SandboxStoreTasks, confirm_tasks, store_tasks
from promoflow.connectors.sandbox.supplier_portal import (
    SandboxSupplierPortal,
    set_supplier_behaviour,
)
from promoflow.connectors.sandbox.wms import SandboxWms, receive_stock, set_stock
from promoflow.inventory.models import InventoryPosition
from promoflow.kit.clock import utcnow
from promoflow.kit.errors import InvalidInput

pytestmark = pytest.mark.postgres


def _scope(
    sessions: sessionmaker[Session], items: int = 3, stores: int = 2
) -> tuple[list[str], list[str]]:
    with sessions() as session:
        skus = list(
            session.scalars(
                sa.select(Item.sku)
                .where(Item.status == "active", ~Item.restricted)
                .order_by(Item.sku)
                .limit(items)
            )
        )
        codes = list(
            session.scalars(
                sa.select(Location.code)
                .where(Location.kind == "store")
                .order_by(Location.code)
                .limit(stores)
            )
        )
    return skus, codes


def test_wms_reports_the_seeded_positions(retailer: sessionmaker[Session]) -> None:
    skus, codes = _scope(retailer, items=10, stores=3)
    records = SandboxWms(retailer).fetch_positions(skus, codes)
    assert isinstance(SandboxWms(retailer), InventorySource)
    with retailer() as session:
        rows = session.execute(
            sa.select(Item.sku, Location.code, InventoryPosition.on_hand)
            .join(Item, Item.id == InventoryPosition.item_id)
            .join(Location, Location.id == InventoryPosition.location_id)
            .where(Item.sku.in_(skus), Location.code.in_(codes))
        ).all()
    seeded = {(sku, code): on_hand for sku, code, on_hand in rows}
    assert len(records) == len(seeded) > 0
    assert all(seeded[(r.sku, r.location_code)] == r.on_hand for r in records)
    assert {r.source for r in records} == {"sandbox-wms"}


def test_a_replenishment_arriving_raises_on_hand(retailer: sessionmaker[Session]) -> None:
    skus, codes = _scope(retailer, items=1, stores=1)
    set_stock(retailer, skus[0], codes[0], on_hand=2, in_transit=30, on_order=50)
    arrived = receive_stock(retailer, skus[0], codes[0], 40)
    assert (arrived.on_hand, arrived.in_transit, arrived.on_order) == (42, 0, 40)
    (seen,) = SandboxWms(retailer).fetch_positions(skus, codes)
    assert seen.on_hand == 42
    assert seen.as_of >= arrived.as_of - timedelta(seconds=1)
    with pytest.raises(InvalidInput, match="quantity=0"):
        receive_stock(retailer, skus[0], codes[0], 0)


def _po(sessions: sessionmaker[Session], supplier: str) -> PurchaseOrderRequest:
    skus, _ = _scope(sessions, items=2, stores=1)
    with sessions() as session:
        dc = session.scalars(sa.select(Location.code).where(Location.kind == "dc")).first()
    assert dc is not None
    number = f"PO-{uuid.uuid4().hex[:8]}"
    return PurchaseOrderRequest(
        number, supplier, dc, date(2026, 12, 10), ((skus[0], 120.0), (skus[1], 45.0))
    )


def _supplier(sessions: sessionmaker[Session], index: int) -> str:
    with sessions() as session:
        codes = list(session.scalars(sa.select(Supplier.code).order_by(Supplier.code)))
    return codes[index]


def test_po_acknowledgement_arrives_after_the_suppliers_delay(
    retailer: sessionmaker[Session],
) -> None:
    portal = SandboxSupplierPortal(retailer)
    supplier = _supplier(retailer, 0)
    set_supplier_behaviour(retailer, supplier, ack_after_seconds=0.6)
    order = _po(retailer, supplier)
    key = f"{order.number}-submit"
    reference = portal.submit_purchase_order(key, order)
    assert portal.submit_purchase_order(key, order) == reference
    assert portal.acknowledgements([order.number]) == []
    time.sleep(0.7)
    (ack,) = portal.acknowledgements([order.number])
    assert ack.status == "acknowledged"
    assert ack.confirmed == order.lines
    assert ack.acknowledged_at is not None
    assert ack.acknowledged_at <= utcnow()


def test_partial_fill_and_a_supplier_that_never_answers(retailer: sessionmaker[Session]) -> None:
    portal = SandboxSupplierPortal(retailer)
    partial, silent = _supplier(retailer, 1), _supplier(retailer, 2)
    set_supplier_behaviour(retailer, partial, fill_rate=0.5)
    set_supplier_behaviour(retailer, silent, never_ack=True)
    short, lost = _po(retailer, partial), _po(retailer, silent)
    portal.submit_purchase_order(f"{short.number}-k", short)
    portal.submit_purchase_order(f"{lost.number}-k", lost)
    acks = portal.acknowledgements([short.number, lost.number])
    assert [(a.number, a.status) for a in acks] == [(short.number, "partial")]
    assert [qty for _, qty in acks[0].confirmed] == [60.0, 22.0]


def test_a_po_number_resent_under_a_new_key_is_refused(retailer: sessionmaker[Session]) -> None:
    portal = SandboxSupplierPortal(retailer)
    order = _po(retailer, _supplier(retailer, 0))
    portal.submit_purchase_order("first-key-" + order.number, order)
    with pytest.raises(ConnectorError, match="already submitted") as refused:
        portal.submit_purchase_order("second-key-" + order.number, order)
    assert refused.value.retryable is False


def test_a_po_its_supplier_has_not_confirmed_is_cancelled_once(
    retailer: sessionmaker[Session],
) -> None:
    portal = SandboxSupplierPortal(retailer)
    supplier = _supplier(retailer, 3)
    set_supplier_behaviour(retailer, supplier, ack_after_seconds=0.5)
    order = _po(retailer, supplier)
    portal.submit_purchase_order(f"{order.number}-k", order)
    first = portal.cancel_purchase_order(f"{order.number}-cancel", order.number)
    again = portal.cancel_purchase_order(f"{order.number}-cancel", order.number)
    assert (first.outcome, again.outcome, again.detail) == (
        "cancelled",
        "cancelled",
        "already cancelled",
    )
    time.sleep(0.6)  # the supplier's answer time passes: a cancelled PO is never confirmed
    assert portal.acknowledgements([order.number]) == []
    never = portal.cancel_purchase_order("never-sent-cancel", "PO-NEVER-SENT")
    assert (never.outcome, never.detail) == ("cancelled", "the portal never got it")
    outcomes = [r["outcome"] for r in requests(retailer, portal.system, "cancel_purchase_order")]
    assert outcomes[-3:] == ["applied", "duplicate", "applied"]


def test_a_po_its_supplier_confirmed_stays(retailer: sessionmaker[Session]) -> None:
    portal = SandboxSupplierPortal(retailer)
    supplier = _supplier(retailer, 0)
    set_supplier_behaviour(retailer, supplier)  # answers at once, in full
    order = _po(retailer, supplier)
    portal.submit_purchase_order(f"{order.number}-k", order)
    kept = portal.cancel_purchase_order(f"{order.number}-cancel", order.number)
    assert kept.outcome == "confirmed" and supplier in kept.detail
    (ack,) = portal.acknowledgements([order.number])
    assert ack.status == "acknowledged"


def test_store_tasks_are_created_once_and_confirmed_by_stores(
    retailer: sessionmaker[Session],
) -> None:
    _, codes = _scope(retailer, items=1, stores=10)
    code = f"PROMO-{uuid.uuid4().hex[:6]}"
    tasks = [
        StoreTaskRequest(c, kind, code, date(2026, 12, 6))
        for c in codes
        for kind in ("signage", "display_build")
    ]
    system = SandboxStoreTasks(retailer)
    receipt = system.create_tasks(f"{code}-tasks", tasks)
    assert (receipt.accepted, system.create_tasks(f"{code}-tasks", tasks).duplicate) == (20, True)
    first = confirm_tasks(retailer, code, fraction=0.5, seed=3)
    assert 3 <= len(first) <= 17
    rest = confirm_tasks(retailer, code, fraction=1.0)
    assert len(first) + len(rest) == 20
    assert {t["status"] for t in store_tasks(retailer, code)} == {"confirmed"}


def test_confirming_a_fraction_picks_the_same_stores_for_a_seed(
    retailer: sessionmaker[Session],
) -> None:
    _, codes = _scope(retailer, items=1, stores=10)
    picked = []
    for _ in range(2):
        code = "SAME-" + uuid.uuid4().hex[:6]
        SandboxStoreTasks(retailer).create_tasks(
            code, [StoreTaskRequest(c, "signage", "PROMO-FIXED", date(2026, 12, 6)) for c in codes]
        )
        picked.append(confirm_tasks(retailer, "PROMO-FIXED", fraction=0.5, seed=9))
        confirm_tasks(retailer, "PROMO-FIXED", fraction=1.0)
    assert picked[0] == picked[1]


def test_sales_feed_is_repeatable_and_promotions_sell_more(retailer: sessionmaker[Session]) -> None:
    skus, codes = _scope(retailer, items=4, stores=4)
    feed = SandboxSalesFeed(retailer)
    assert isinstance(feed, SalesFeed)
    start, end = date(2027, 1, 4), date(2027, 1, 17)
    before = feed.sales(skus, codes, start, end)
    assert before == feed.sales(skus, codes, start, end)
    assert len(before) > 0
    assert {r.day for r in before} == {start + timedelta(days=n) for n in range(14)}
    with retailer() as session:
        query = sa.select(Item.sku, Item.regular_price).where(Item.sku.in_(skus))
        regular = {sku: price for sku, price in session.execute(query)}
    changes = [
        PriceChange(
            s,
            c,
            "pos",
            (regular[s] * Decimal("0.6")).quantize(Decimal("0.01")),
            regular[s],
            start,
            end,
        )
        for s in skus
        for c in codes
    ]
    for sku in skus:
        for code in codes:
            set_stock(retailer, sku, code, on_hand=10_000)
    SandboxPricePublisher(retailer, "pos").publish_prices(f"feed-{uuid.uuid4().hex}", changes)
    during = feed.sales(skus, codes, start, end)
    assert sum(r.units for r in during) > 1.5 * sum(r.units for r in before)
    assert all(r.revenue <= Decimal(str(regular[r.sku])) * Decimal(int(r.units)) for r in during)


def test_sales_never_exceed_the_stock_on_hand(retailer: sessionmaker[Session]) -> None:
    skus, codes = _scope(retailer, items=2, stores=2)
    for sku in skus:
        for code in codes:
            set_stock(retailer, sku, code, on_hand=3, in_transit=0)
    records = SandboxSalesFeed(retailer).sales(skus, codes, date(2027, 2, 1), date(2027, 2, 28))
    totals: dict[tuple[str, str], float] = {}
    for r in records:
        totals[(r.sku, r.location_code)] = totals.get((r.sku, r.location_code), 0) + r.units
    assert totals
    assert max(totals.values()) <= 3


def test_finance_posts_once_per_key(retailer: sessionmaker[Session]) -> None:
    finance = SandboxFinance(retailer)
    key = f"PROMO-{uuid.uuid4().hex[:6]}-r1-finance"
    document = finance.post_promotion_result(key, "PROMO-1", Decimal("1234.50"), Decimal("200"))
    again = finance.post_promotion_result(key, "PROMO-1", Decimal("1234.50"), Decimal("200"))
    assert document == again
    assert document.startswith("FI-")


def test_item_master_reports_all_items_then_only_changes(retailer: sessionmaker[Session]) -> None:
    erp = SandboxItemMaster(retailer)
    everything = erp.changed_items(None)
    assert len(everything) == 60
    assert {"sku", "category", "unit_cost", "regular_price", "supplier_code"} <= set(everything[0])
    since = utcnow()
    change_item(retailer, str(everything[0]["sku"]), regular_price="9.99")
    changed = erp.changed_items(since)
    assert [(c["sku"], c["regular_price"]) for c in changed] == [(everything[0]["sku"], "9.99")]


def test_registry_hands_out_sandbox_systems_per_port(retailer: sessionmaker[Session]) -> None:
    registry.reset()
    pos = registry.get_price_publisher("pos", retailer)
    assert isinstance(pos, PricePublisher)
    assert pos.system == "sandbox-pos"
    assert registry.get_price_publisher("ecommerce", retailer).system == "sandbox-ecommerce"
    assert registry.get_price_publisher("pos", retailer) is pos
    systems = {
        registry.get_store_task_system(retailer).system,
        registry.get_inventory_source(retailer).system,
        registry.get_purchase_order_system(retailer).system,
        registry.get_sales_feed(retailer).system,
        registry.get_item_master(retailer).system,
        registry.get_finance_posting(retailer).system,
    }
    assert systems == {
        "sandbox-store-tasks",
        "sandbox-wms",
        "sandbox-supplier-portal",
        "sandbox-pos-sales",
        "sandbox-erp",
        "sandbox-erp-finance",
    }
    with pytest.raises(InvalidInput, match="channel='signage'"):
        registry.get_price_publisher("signage", retailer)
    registry.reset()

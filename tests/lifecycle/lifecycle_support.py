"""Helpers for lifecycle tests: plan, submit and drive promotions on the seeded retailer."""

from __future__ import annotations

import itertools
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from promoflow.kit.clock import utcnow
from promoflow.lifecycle import commands
from promoflow.promotions.schemas import PromotionCreate
from promoflow.runtime import Runtime, get_runtime
from promoflow.scenario import estate_actions, picking
from promoflow.scenario.desk import Desk, PromotionScript

_used_skus: set[str] = set()
_regions = itertools.count(1)
_reuses = itertools.count(0)


@dataclass
class Planned:
    promotion_id: int
    code: str
    skus: list[str]
    region: str
    workflow_id: str = ""


def submit(
    planned: Planned, *, launch_lead_hours: float = 10.0, live_hours: float = 10.0
) -> Planned:
    planned.workflow_id = commands.submit_promotion(
        planned.promotion_id,
        "mia.merch",
        launch_lead_hours=launch_lead_hours,
        live_hours=live_hours,
    )
    return planned


def status_of(promotion_id: int) -> tuple[str, str]:
    from promoflow.promotions.models import Promotion

    with get_runtime().sessions() as session:
        promotion = session.get(Promotion, promotion_id)
        assert promotion is not None
        return promotion.status, promotion.status_reason


def drive(
    planned: Planned,
    until: Callable[[str], bool],
    *,
    desk: Desk | None = None,
    timeout: float = 60.0,
) -> str:
    """Let the desk act until the promotion's status satisfies `until`; returns the status."""
    deadline = time.monotonic() + timeout
    status = ""
    while time.monotonic() < deadline:
        if desk is not None:
            desk.tick()
        status, _ = status_of(planned.promotion_id)
        if until(status):
            return status
        time.sleep(0.05)
    raise AssertionError(f"{planned.code} stuck in {status!r}: {status_of(planned.promotion_id)}")


def desk_for(planned: Planned, **script: Any) -> Desk:
    return Desk({planned.code: PromotionScript(planned.code, **script)}, think_hours=0.0)


def set_dc_stock(rt: Runtime, skus: list[str], region: str, units: float) -> str:
    """The DC serving `region` holds `units` of each SKU on hand (nothing on the way)."""
    from promoflow.catalog.models import Location
    from promoflow.connectors.sandbox import wms
    from promoflow.inventory import service as inventory_service
    from promoflow.kit.db import transaction

    with rt.sessions() as session:
        dc_id = session.scalar(
            sa.select(Location.serving_dc_id)
            .where(Location.region == region, Location.kind == "store")
            .limit(1)
        )
        dc = session.get(Location, dc_id)
        assert dc is not None, f"no DC serves {region}"
        code = dc.code
    records = [
        wms.set_stock(
            rt.sessions, sku, code, on_hand=units, on_order=0.0, in_transit=0.0, allocated=0.0
        )
        for sku in skus
    ]
    with transaction(rt.sessions) as session:
        inventory_service.apply_positions(session, records, "sandbox-wms")
    return code


def _pick(rt: Runtime, items: int, exclude: set[str]) -> tuple[str, list[str]]:
    """Take turns between regions, passing over one without `items` promotable items left."""
    with rt.sessions() as session:
        regions = picking.regions(session)
        first = next(_regions)
        for turn in range(len(regions)):
            region = regions[(first + turn) % len(regions)]
            skus = picking.promotable_skus(session, region=region, count=items, exclude=exclude)
            if len(skus) == items:
                break
    return region, skus


def _busy_skus(rt: Runtime) -> set[str]:
    """SKUs of promotions that have not finished (drafts included)."""
    from promoflow.catalog.models import Item
    from promoflow.promotions.models import TERMINAL_STATES, Promotion, PromotionItem

    with rt.sessions() as session:
        return set(
            session.scalars(
                sa.select(Item.sku)
                .join(PromotionItem, PromotionItem.item_id == Item.id)
                .join(Promotion, Promotion.id == PromotionItem.promotion_id)
                .where(Promotion.status.not_in(TERMINAL_STATES))
            ).all()
        )


def _on_order_skus(rt: Runtime) -> set[str]:
    """SKUs with purchase-order units still to arrive (any destination, any due date)."""
    from datetime import date

    from promoflow.catalog.models import Item, Location
    from promoflow.inventory import service as inventory_service

    with rt.sessions() as session:
        outstanding = inventory_service.outstanding_on_order(
            session, sa.select(Item.id), sa.select(Location.id), date.max
        )
        ids = {item_id for item_id, _, units in outstanding if units > 0}
        return set(session.scalars(sa.select(Item.sku).where(Item.id.in_(ids))).all())


def make_planned(
    rt: Runtime,
    items: int = 3,
    weeks_of_cover: float = 8.0,
    *,
    dc_units: float = 0.0,
    window_days: int = 7,
    shift_days: int = 0,
    **terms: Any,
) -> Planned:
    """A draft on items no running promotion uses, its stores stocked at `weeks_of_cover`.

    Items nobody in the run has promoted come first; when the small retailer runs out,
    items whose promotions have finished come back, in a later window of their own.
    The serving DC holds `dc_units` of each item (none by default), so a test decides
    whether the workflow's allocation has anything to send. The window runs
    `window_days` from `shift_days` after its usual start.
    """
    region, skus = _pick(rt, items, _used_skus)
    # Ten weeks out: clear of the API tests' promotions, never in the past.
    start = utcnow().date() + timedelta(weeks=10, days=shift_days)
    if len(skus) < items:
        # A reused item may still have purchase orders open from an earlier test, and
        # the replenishment rightly counts them: prefer items with none outstanding.
        busy = _busy_skus(rt)
        region, skus = _pick(rt, items, busy | _on_order_skus(rt))
        if len(skus) < items:
            region, skus = _pick(rt, items, busy)
        start += timedelta(weeks=8 + next(_reuses))
    assert len(skus) == items, f"no region has {items} promotable items free"
    _used_skus.update(skus)
    estate_actions.set_cover(rt, skus, [region], weeks_of_cover=weeks_of_cover)
    set_dc_stock(rt, skus, region, dc_units)
    fields: dict[str, Any] = {
        "mechanic": "percent_off",
        "discount_percent": Decimal(10),
        "channels": ["pos", "ecommerce"],
    }
    fields.update(terms)
    request = PromotionCreate(
        code=f"T-{uuid.uuid4().hex[:8]}",
        name="test promotion",
        start_date=start,
        end_date=start + timedelta(days=window_days - 1),
        items=skus,
        regions=[region],
        **fields,
    )
    created = commands.create_promotion(request, "mia.merch")
    return Planned(created.id, created.code, skus, region)


def cases(rt: Runtime, promotion_id: int, kind: str | None = None) -> list[Any]:
    """The promotion's exception cases, oldest first (of one kind if given)."""
    from promoflow.exceptions.models import ExceptionCase

    query = sa.select(ExceptionCase).where(ExceptionCase.promotion_id == promotion_id)
    if kind is not None:
        query = query.where(ExceptionCase.kind == kind)
    with rt.sessions() as session:
        return list(session.scalars(query.order_by(ExceptionCase.id)).all())


def recommendation(rt: Runtime, promotion_id: int, kind: str) -> tuple[Any, list[Any]] | None:
    """The promotion's newest recommendation of `kind` and its lines (None before one)."""
    from promoflow.recommendations import service

    with rt.sessions() as session:
        found = service.list_recommendations(session, promotion_id, kind=kind)
        if not found:
            return None
        return found[0], list(service.recommendation_lines(session, found[0].id))


def stock_of(rt: Runtime, sku: str, location_code: str) -> tuple[float, float]:
    """(on hand, in transit) of one item at one location, as promoflow knows it."""
    from promoflow.catalog.models import Item, Location
    from promoflow.inventory.models import InventoryPosition

    with rt.sessions() as session:
        row = session.execute(
            sa.select(InventoryPosition.on_hand, InventoryPosition.in_transit)
            .join(Item, Item.id == InventoryPosition.item_id)
            .join(Location, Location.id == InventoryPosition.location_id)
            .where(Item.sku == sku, Location.code == location_code)
        ).first()
    return (float(row[0]), float(row[1])) if row else (0.0, 0.0)


def wait_until(
    condition: Callable[[], bool], what: str, *, desk: Desk | None = None, timeout: float = 60.0
) -> None:
    """Let the desk act until `condition()` holds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if desk is not None:
            desk.tick()
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def supplier_of(rt: Runtime, sku: str) -> str:
    """The code of the supplier an item is bought from."""
    from promoflow.catalog.models import Item, Supplier

    with rt.sessions() as session:
        code = session.scalar(
            sa.select(Supplier.code)
            .join(Item, Item.supplier_id == Supplier.id)
            .where(Item.sku == sku)
        )
    assert code is not None, f"{sku} has no supplier"
    return code


def purchase_orders(rt: Runtime, promotion_id: int) -> list[Any]:
    """The purchase orders raised for a promotion, by number."""
    from promoflow.inventory.models import PurchaseOrder

    with rt.sessions() as session:
        return list(
            session.scalars(
                sa.select(PurchaseOrder)
                .where(PurchaseOrder.promotion_id == promotion_id)
                .order_by(PurchaseOrder.number)
            ).all()
        )

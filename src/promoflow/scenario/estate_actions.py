"""What happens in the physical estate during the demo: stock counts, outages,
replenishment orders and deliveries. Each goes through the sandbox systems and
then the app's own services, the way a real integration would."""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from typing import Any

from promoflow.catalog.models import Item, Location, Supplier
from promoflow.connectors import registry
from promoflow.connectors.ports import PositionRecord, PurchaseOrderRequest
from promoflow.connectors.sandbox import faults, pricing, supplier_portal, wms
from promoflow.inventory import service as inventory_service
from promoflow.kit.clock import utcnow
from promoflow.kit.db import transaction
from promoflow.kit.errors import NotFound
from promoflow.promotions import repository as promotions_repository
from promoflow.promotions.models import Promotion
from promoflow.runtime import Runtime
from promoflow.scenario import repository

SOURCE = "sandbox-wms"


def _weekly_demand(
    runtime: Runtime, skus: list[str], regions: list[str]
) -> dict[tuple[str, str], float]:
    """Mean weekly units over the last 13 weeks per (sku, store) in the regions."""
    with runtime.sessions() as session:
        last = repository.last_sales_week(session)
        if last is None:
            return {}
        since = last - timedelta(weeks=13)
        rows = repository.mean_weekly_store_units(session, skus, regions, since)
    return {(sku, code): float(units or 0.0) for sku, code, units in rows}


def set_cover(
    runtime: Runtime,
    skus: list[str],
    regions: list[str],
    weeks_of_cover: float,
    spare_units: float = 0.0,
) -> int:
    """A stock count: set each store's on hand to `weeks_of_cover` of its usual sales
    (and `spare_units` more)."""
    records: list[PositionRecord] = []
    for (sku, code), weekly in _weekly_demand(runtime, skus, regions).items():
        on_hand = float(math.ceil(max(weekly, 0.5) * weeks_of_cover)) + spare_units
        records.append(
            wms.set_stock(
                runtime.sessions,
                sku,
                code,
                on_hand=on_hand,
                on_order=0.0,
                in_transit=0.0,
                allocated=0.0,
            )
        )
    with transaction(runtime.sessions) as session:
        return inventory_service.apply_positions(session, records, SOURCE)


def pos_outage(runtime: Runtime, start: datetime, end: datetime) -> None:
    """The POS pricing API is down from `start` to `end`."""
    faults.set_faults(runtime.sessions, "sandbox-pos", outages=[(start, end)])


def raise_replenishment(
    runtime: Runtime, promotion_id: int, weeks_of_cover: float, ack_after_seconds: float
) -> list[str]:
    """The planner orders what the stores lack, one PO per supplier into the serving DC."""
    with runtime.sessions() as session:
        items = [item for _, item in promotions_repository.scope_items(session, promotion_id)]
        stores = list(promotions_repository.scope_locations(session, promotion_id))
    regions = sorted({store.region for store in stores})
    dc_id = stores[0].serving_dc_id or stores[0].id
    demand = _weekly_demand(runtime, [i.sku for i in items], regions)
    by_supplier: dict[int, list[tuple[Item, float]]] = {}
    for item in items:
        need = sum(max(weekly, 0.5) for (sku, _), weekly in demand.items() if sku == item.sku)
        quantity = math.ceil(need * weeks_of_cover / item.case_pack) * item.case_pack
        by_supplier.setdefault(item.supplier_id or 0, []).append((item, float(quantity)))
    with transaction(runtime.sessions) as session:
        promotion = session.get(Promotion, promotion_id)
        if promotion is None:
            raise NotFound(f"promotion {promotion_id} does not exist")
        requests: list[PurchaseOrderRequest] = []
        now = utcnow()
        hour = runtime.settings.seconds_per_business_hour
        for supplier_id, lines in by_supplier.items():
            supplier = session.get(Supplier, supplier_id)
            dc = session.get(Location, dc_id)
            if supplier is None or dc is None:
                raise NotFound(f"supplier {supplier_id} or DC {dc_id} of {promotion.code}")
            number = f"{promotion.code}-PO{len(requests) + 1}"
            inventory_service.raise_purchase_order(
                session,
                number=number,
                supplier_id=supplier.id,
                destination_id=dc.id,
                promotion_id=promotion_id,
                lines=[(i.id, q) for i, q in lines],
                due_date=promotion.start_date - timedelta(days=3),
                ack_due_at=now + timedelta(seconds=24 * hour),
            )
            requests.append(
                PurchaseOrderRequest(
                    number=number,
                    supplier_code=supplier.code,
                    destination_code=dc.code,
                    due=promotion.start_date - timedelta(days=3),
                    lines=tuple((i.sku, q) for i, q in lines),
                )
            )
    portal = registry.get_purchase_order_system()
    for request in requests:
        supplier_portal.set_supplier_behaviour(
            runtime.sessions, request.supplier_code, ack_after_seconds=ack_after_seconds
        )
        portal.submit_purchase_order(request.number, request)
    return [r.number for r in requests]


def deliver_if_acknowledged(runtime: Runtime, numbers: list[str], weeks_of_cover: float) -> bool:
    """Once every PO is acknowledged, the DC ships to the stores: positions rise."""
    with runtime.sessions() as session:
        orders = repository.purchase_orders_by_number(session, numbers)
        if not orders or any(o.ack_status != "acknowledged" for o in orders):
            return False
        promotion_id = orders[0].promotion_id
        assert promotion_id is not None
        skus = [i.sku for _, i in promotions_repository.scope_items(session, promotion_id)]
        stores = list(promotions_repository.scope_locations(session, promotion_id))
        on_hand = repository.on_hand_by_sku_and_code(session, skus, [s.id for s in stores])
    regions = sorted({store.region for store in stores})
    records = []
    for (sku, code), weekly in _weekly_demand(runtime, skus, regions).items():
        target = math.ceil(max(weekly, 0.5) * weeks_of_cover)
        missing = target - float(on_hand.get((sku, code), 0.0))
        if missing > 0:
            records.append(wms.receive_stock(runtime.sessions, sku, code, missing))
    with transaction(runtime.sessions) as session:
        inventory_service.apply_positions(session, records, SOURCE)
        inventory_service.mark_received(session, numbers)
    return True


def pos_price_counts(runtime: Runtime, codes: list[str]) -> dict[tuple[str, str, str], int]:
    """Times each (promotion, sku, store) price was applied by the sandbox POS."""
    counts: dict[tuple[str, str, str], int] = {}
    rows = pricing.price_applications(runtime.sessions, "sandbox-pos")
    for key, sku, location in rows:
        code = next((c for c in codes if key.startswith(f"{c}-r")), None)
        if code is not None:
            counts[(code, sku, location)] = counts.get((code, sku, location), 0) + 1
    return counts


def promotion_states(runtime: Runtime, promotion_ids: list[int]) -> list[dict[str, Any]]:
    """Code, state and reason of each promotion, in the given order."""
    with runtime.sessions() as session:
        rows = {p.id: p for p in repository.promotions_by_id(session, promotion_ids)}
    return [
        {
            "id": pid,
            "code": rows[pid].code,
            "name": rows[pid].name,
            "status": rows[pid].status,
            "reason": rows[pid].status_reason,
        }
        for pid in promotion_ids
    ]

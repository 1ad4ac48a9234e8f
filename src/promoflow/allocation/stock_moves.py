"""Applying a decided recommendation: the WMS ships an allocation, purchase orders go
out for a replenishment. Each runs through `runtime.run_tx` (exactly once); the calls
to the WMS and the supplier portal between them are `allocation.steps`.

DBOS names a transaction after its function, and workflows in flight replay these
under the names they had in `lifecycle.stock_moves`: keep the function names.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta

from sqlalchemy.orm import Session

from promoflow.allocation import repository as repo
from promoflow.allocation.schemas import OrderRequest, Shipment, ShippedPosition
from promoflow.connectors.ports import PositionRecord
from promoflow.events.log import record_event
from promoflow.inventory import service as inventory_service
from promoflow.kit.clock import utcnow
from promoflow.promotions import service as promotions_service
from promoflow.promotions.models import Promotion
from promoflow.recommendations import service as recommendations_service
from promoflow.recommendations.models import Recommendation, RecommendationLine


def _decided_lines(
    session: Session, recommendation_id: int
) -> tuple[Recommendation, Promotion, list[RecommendationLine]]:
    recommendation = recommendations_service.get_recommendation(session, recommendation_id)
    lines = [
        line
        for line in recommendations_service.recommendation_lines(session, recommendation_id)
        if (line.quantity_decided or 0.0) > 0
    ]
    promotion = promotions_service.get_promotion(session, recommendation.promotion_id)
    return recommendation, promotion, lines


def allocation_transfers(session: Session, recommendation_id: int) -> Shipment:
    """What the WMS must ship for a decided allocation: (sku, from DC, to store, units)."""
    recommendation, promotion, lines = _decided_lines(session, recommendation_id)
    skus = repo.item_skus(session, {ln.item_id for ln in lines})
    ids = {ln.location_id for ln in lines} | {ln.source_id for ln in lines}
    codes = repo.location_codes(session, ids)
    return {
        "key": f"{promotion.code}-r{recommendation.revision}-allocation-{recommendation.id}",
        "transfers": [
            (
                skus[ln.item_id],
                codes[ln.source_id],
                codes[ln.location_id],
                float(ln.quantity_decided or 0.0),
            )
            for ln in lines
        ],
    }


def allocation_applied(
    session: Session, recommendation_id: int, positions: list[ShippedPosition], reference: str
) -> float:
    """The WMS shipped the allocation: our positions follow it (and the gates hear of it)."""
    recommendation, promotion, lines = _decided_lines(session, recommendation_id)
    records = [PositionRecord(**position) for position in positions]
    inventory_service.apply_positions(session, records, records[0].source if records else "wms")
    units = float(sum(line.quantity_decided or 0.0 for line in lines))
    record_event(
        session,
        "recommendation.applied",
        f"recommendation/{recommendation.id}",
        {
            "recommendation_id": recommendation.id,
            "kind": recommendation.kind,
            "status": recommendation.status,
            "units": units,
            "lines": len(lines),
            "reference": reference,
        },
        promotion_id=promotion.id,
    )
    return units


def raise_replenishment(
    session: Session, recommendation_id: int, ack_due_seconds: float
) -> list[OrderRequest]:
    """Record one purchase order per supplier and DC for the decided lines; return requests."""
    recommendation, promotion, lines = _decided_lines(session, recommendation_id)
    if not lines:
        return []  # nothing to order (or every line edited to zero)
    grouped: dict[tuple[int, int], list[RecommendationLine]] = defaultdict(list)
    for line in lines:
        grouped[(line.source_id, line.location_id)].append(line)
    now = utcnow()
    requests: list[OrderRequest] = []
    for index, ((supplier_id, dc_id), order_lines) in enumerate(sorted(grouped.items()), start=1):
        supplier, dc = repo.supplier(session, supplier_id), repo.location(session, dc_id)
        if supplier is None or dc is None:
            continue  # the catalogue lost the row since the proposal; nothing to order from
        items = {ln.item_id: repo.item(session, ln.item_id) for ln in order_lines}
        due = now.date() + timedelta(days=supplier.lead_time_days)
        number = f"{promotion.code[:26]}-r{recommendation.revision}-RP{index}"
        inventory_service.raise_purchase_order(
            session,
            number=number,
            supplier_id=supplier.id,
            destination_id=dc.id,
            promotion_id=promotion.id,
            lines=[(ln.item_id, float(ln.quantity_decided or 0.0)) for ln in order_lines],
            due_date=due,
            ack_due_at=now + timedelta(seconds=ack_due_seconds),
        )
        requests.append(
            {
                "number": number,
                "supplier_code": supplier.code,
                "destination_code": dc.code,
                "due": due.isoformat(),
                "lines": [
                    (item.sku, float(ln.quantity_decided or 0.0))
                    for ln in order_lines
                    if (item := items[ln.item_id]) is not None
                ],
            }
        )
    record_event(
        session,
        "recommendation.applied",
        f"recommendation/{recommendation.id}",
        {
            "recommendation_id": recommendation.id,
            "kind": recommendation.kind,
            "status": recommendation.status,
            "units": float(sum(ln.quantity_decided or 0.0 for ln in lines)),
            "lines": len(lines),
            "purchase_orders": [r["number"] for r in requests],
        },
        promotion_id=promotion.id,
    )
    return requests

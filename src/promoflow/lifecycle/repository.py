"""Every query the promotion workflow and its report make.

These read other domains' tables (promotions' scope and forecast, purchase orders,
gate results, approval tasks, cases, the event log) because those domains' services
do not offer the reads yet; each is a candidate to move into its domain's service.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from promoflow.approvals.models import ApprovalTask
from promoflow.catalog.models import Item, Location, Supplier
from promoflow.events.models import Event
from promoflow.exceptions.models import ExceptionCase
from promoflow.gates.models import GateResult
from promoflow.inventory.models import PurchaseOrder, PurchaseOrderLine
from promoflow.promotions.models import ForecastLine, Promotion, PromotionItem, PromotionLocation
from promoflow.promotions.states import PromotionState
from promoflow.recommendations.models import Recommendation, RecommendationLine
from promoflow.recommendations.schemas import RecommendationKind, RecommendationStatus

PROMOTION_EVENTS = "io.promoflow.promotion."
# An allocation that moved stock: applied by policy, accepted or edited by a planner.
APPLIED = (
    RecommendationStatus.AUTO_APPLIED,
    RecommendationStatus.ACCEPTED,
    RecommendationStatus.EDITED,
)
ANALYSED_EVENT = PROMOTION_EVENTS + PromotionState.ANALYSED


def scope_items(session: Session, promotion_id: int) -> Sequence[Item]:
    """The promoted items, by id."""
    return session.scalars(
        sa.select(Item)
        .join(PromotionItem, PromotionItem.item_id == Item.id)
        .where(PromotionItem.promotion_id == promotion_id)
        .order_by(Item.id)
    ).all()


def scope_locations(session: Session, promotion_id: int) -> Sequence[Location]:
    """The promotion's target locations, by id."""
    return session.scalars(
        sa.select(Location)
        .join(PromotionLocation, PromotionLocation.location_id == Location.id)
        .where(PromotionLocation.promotion_id == promotion_id)
        .order_by(Location.id)
    ).all()


def forecast_totals(session: Session, promotion_id: int, revision: int) -> tuple[float, float]:
    """(baseline, promoted) units forecast for the revision, summed over its scope."""
    row = session.execute(
        sa.select(
            sa.func.coalesce(sa.func.sum(ForecastLine.baseline_units), 0.0),
            sa.func.coalesce(sa.func.sum(ForecastLine.promoted_units), 0.0),
        ).where(ForecastLine.promotion_id == promotion_id, ForecastLine.revision == revision)
    ).one()
    return float(row[0]), float(row[1])


def planned_margin(session: Session, promotion_id: int, revision: int) -> float:
    """The margin the revision's forecast promised: promoted units x (promo price - unit
    cost + vendor funding per unit), summed over its forecast lines."""
    unit_margin = PromotionItem.promo_price - Item.unit_cost + Promotion.vendor_funding_per_unit
    total = session.scalar(
        sa.select(sa.func.coalesce(sa.func.sum(ForecastLine.promoted_units * unit_margin), 0.0))
        .join(
            PromotionItem,
            sa.and_(
                PromotionItem.promotion_id == ForecastLine.promotion_id,
                PromotionItem.item_id == ForecastLine.item_id,
            ),
        )
        .join(Item, Item.id == ForecastLine.item_id)
        .join(Promotion, Promotion.id == ForecastLine.promotion_id)
        .where(ForecastLine.promotion_id == promotion_id, ForecastLine.revision == revision)
    )
    return float(total or 0.0)


def allocated_stock(
    session: Session, promotion_id: int, revision: int
) -> list[tuple[int, int, float, float]]:
    """(item_id, location_id, units sent, units the store already held when planned) per
    line of the revision's applied allocation recommendations."""
    rows = session.execute(
        sa.select(
            RecommendationLine.item_id,
            RecommendationLine.location_id,
            sa.func.coalesce(
                RecommendationLine.quantity_decided, RecommendationLine.quantity_proposed
            ),
            RecommendationLine.details,
        )
        .join(Recommendation, Recommendation.id == RecommendationLine.recommendation_id)
        .where(
            Recommendation.promotion_id == promotion_id,
            Recommendation.revision == revision,
            Recommendation.kind == RecommendationKind.ALLOCATION,
            Recommendation.status.in_([str(s) for s in APPLIED]),
        )
    ).all()
    return [
        (item, location, float(units), float((details or {}).get("store_available_units", 0.0)))
        for item, location, units, details in rows
    ]


def unit_costs(session: Session, item_ids: Sequence[int]) -> dict[int, float]:
    """Each item's unit cost, by id."""
    rows = session.execute(sa.select(Item.id, Item.unit_cost).where(Item.id.in_(item_ids))).all()
    return {item_id: float(cost) for item_id, cost in rows}


def forecast_interval_totals(
    session: Session, promotion_id: int, revision: int
) -> tuple[float, float]:
    """(P10, P90) units forecast for the revision, each summed over its scope."""
    row = session.execute(
        sa.select(
            sa.func.coalesce(sa.func.sum(ForecastLine.p10), 0.0),
            sa.func.coalesce(sa.func.sum(ForecastLine.p90), 0.0),
        ).where(ForecastLine.promotion_id == promotion_id, ForecastLine.revision == revision)
    ).one()
    return float(row[0]), float(row[1])


def overdue_acknowledgements(session: Session, promotion_id: int, now: datetime) -> list[str]:
    """Numbers of the promotion's live POs still unacknowledged past their due time."""
    return list(
        session.scalars(
            sa.select(PurchaseOrder.number)
            .where(
                PurchaseOrder.promotion_id == promotion_id,
                PurchaseOrder.ack_status == "pending",
                PurchaseOrder.ack_due_at < now,
                PurchaseOrder.status != "cancelled",
            )
            .order_by(PurchaseOrder.number)
        ).all()
    )


def order_status(session: Session, number: str) -> tuple[str, str]:
    """(status, ack_status) of one PO by number."""
    row = session.execute(
        sa.select(PurchaseOrder.status, PurchaseOrder.ack_status).where(
            PurchaseOrder.number == number
        )
    ).one()
    return row.status, row.ack_status


def promotion_events(session: Session, promotion_id: int) -> Sequence[Event]:
    """The promotion's state transitions in order."""
    return session.scalars(
        sa.select(Event)
        .where(Event.promotion_id == promotion_id, Event.type.like(PROMOTION_EVENTS + "%"))
        .order_by(Event.sequence)
    ).all()


def latest_gate_results(session: Session, promotion_id: int, revision: int) -> Sequence[GateResult]:
    """The revision's newest evaluation round, one row per gate."""
    newest = session.scalar(
        sa.select(sa.func.max(GateResult.evaluation)).where(
            GateResult.promotion_id == promotion_id, GateResult.revision == revision
        )
    )
    return session.scalars(
        sa.select(GateResult)
        .where(
            GateResult.promotion_id == promotion_id,
            GateResult.revision == revision,
            GateResult.evaluation == newest,
        )
        .order_by(GateResult.id)
    ).all()


def gate_results(session: Session, promotion_id: int, revision: int) -> Sequence[GateResult]:
    """Every evaluation round of the revision, oldest first, one row per gate."""
    return session.scalars(
        sa.select(GateResult)
        .where(GateResult.promotion_id == promotion_id, GateResult.revision == revision)
        .order_by(GateResult.evaluation, GateResult.id)
    ).all()


def purchase_orders_with_parties(
    session: Session, promotion_id: int
) -> Sequence[tuple[PurchaseOrder, str, str, float]]:
    """Every PO raised for the promotion with its supplier, its destination and its units."""
    units = (
        sa.select(sa.func.coalesce(sa.func.sum(PurchaseOrderLine.quantity), 0.0))
        .where(PurchaseOrderLine.purchase_order_id == PurchaseOrder.id)
        .scalar_subquery()
    )
    rows = session.execute(
        sa.select(PurchaseOrder, Supplier.code, Location.code, units)
        .join(Supplier, Supplier.id == PurchaseOrder.supplier_id)
        .join(Location, Location.id == PurchaseOrder.destination_id)
        .where(PurchaseOrder.promotion_id == promotion_id)
        .order_by(PurchaseOrder.number)
    ).all()
    return [(order, supplier, to, float(total)) for order, supplier, to, total in rows]


def gate_evaluation_count(session: Session, promotion_id: int) -> int:
    """How many gate evaluation rounds the promotion had (every revision)."""
    count = session.scalar(
        sa.select(sa.func.count(sa.distinct(GateResult.evaluation))).where(
            GateResult.promotion_id == promotion_id
        )
    )
    return count or 0


def approval_tasks(session: Session, promotion_id: int) -> Sequence[ApprovalTask]:
    """Every approval task of the promotion, oldest first."""
    return session.scalars(
        sa.select(ApprovalTask)
        .where(ApprovalTask.promotion_id == promotion_id)
        .order_by(ApprovalTask.id)
    ).all()


def cases(session: Session, promotion_id: int) -> Sequence[ExceptionCase]:
    """Every exception case of the promotion, oldest first."""
    return session.scalars(
        sa.select(ExceptionCase)
        .where(ExceptionCase.promotion_id == promotion_id)
        .order_by(ExceptionCase.id)
    ).all()


def latest_analysis(session: Session, promotion_id: int) -> Event | None:
    """The promotion's newest post-event analysis event."""
    return session.scalar(
        sa.select(Event)
        .where(Event.promotion_id == promotion_id, Event.type == ANALYSED_EVENT)
        .order_by(Event.sequence.desc())
        .limit(1)
    )

"""Every query the gates make: set-based reads of one promotion's scope, and results."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import Any

import polars as pl
import sqlalchemy as sa
from sqlalchemy.orm import Session

from promoflow.approvals.models import ApprovalTask
from promoflow.approvals.schemas import TaskStatus
from promoflow.catalog.models import Item, Location, Price, Ranging, Supplier
from promoflow.events.models import Event
from promoflow.gates.models import GateResult, GateWaiver
from promoflow.gates.schemas import GateStatus
from promoflow.inventory import service as inventory_service
from promoflow.inventory.models import InventoryPosition, PurchaseOrder, PurchaseOrderLine
from promoflow.kit.roles import Role
from promoflow.promotions.models import (
    ForecastLine,
    PromotionItem,
    PromotionLocation,
)
from promoflow.publications.models import StoreTask

UTC_MICROS = pl.Datetime("us", "UTC")


def _frame(rows: Sequence[Any], schema: dict[str, Any]) -> pl.DataFrame:
    return pl.DataFrame([tuple(row) for row in rows], schema=schema, orient="row")


def _utc(moment: datetime | None) -> datetime | None:
    # SQLite hands timestamps back naive; they were written as UTC.
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=UTC)


def _scope_items(promotion_id: int) -> sa.Select[int]:
    return sa.select(PromotionItem.item_id).where(PromotionItem.promotion_id == promotion_id)


def _scope_locations(promotion_id: int) -> sa.Select[int]:
    return sa.select(PromotionLocation.location_id).where(
        PromotionLocation.promotion_id == promotion_id
    )


def item_labels(session: Session, promotion_id: int) -> pl.DataFrame:
    """item_id, sku, category, promo_price, unit_cost of every promoted item."""
    rows = session.execute(
        sa.select(Item.id, Item.sku, Item.category, PromotionItem.promo_price, Item.unit_cost)
        .join(PromotionItem, PromotionItem.item_id == Item.id)
        .where(PromotionItem.promotion_id == promotion_id)
        .order_by(Item.id)
    ).all()
    data = [(i, sku, category, float(price), float(cost)) for i, sku, category, price, cost in rows]
    schema = {
        "item_id": pl.Int64,
        "sku": pl.String,
        "category": pl.String,
        "promo_price": pl.Float64,
        "unit_cost": pl.Float64,
    }
    return _frame(data, schema)


def location_labels(session: Session, promotion_id: int) -> pl.DataFrame:
    """location_id, code, region of every target location."""
    rows = session.execute(
        sa.select(Location.id, Location.code, Location.region)
        .where(Location.id.in_(_scope_locations(promotion_id)))
        .order_by(Location.id)
    ).all()
    return _frame(rows, {"location_id": pl.Int64, "code": pl.String, "region": pl.String})


def forecast_coverage(
    session: Session, promotion_id: int, revision: int, quantile: str
) -> pl.DataFrame:
    """Forecast (the policy quantile, mean, P10, P90, baseline) and stock per item x location."""
    upper = getattr(ForecastLine, quantile)
    position = sa.and_(
        InventoryPosition.item_id == ForecastLine.item_id,
        InventoryPosition.location_id == ForecastLine.location_id,
    )
    rows = session.execute(
        sa.select(
            ForecastLine.item_id,
            ForecastLine.location_id,
            upper,
            ForecastLine.promoted_units,
            ForecastLine.p10,
            ForecastLine.p90,
            ForecastLine.baseline_units,
            sa.func.coalesce(InventoryPosition.on_hand, 0.0),
            sa.func.coalesce(InventoryPosition.in_transit, 0.0),
            sa.func.coalesce(InventoryPosition.allocated, 0.0),
        )
        .outerjoin(InventoryPosition, position)
        .where(ForecastLine.promotion_id == promotion_id, ForecastLine.revision == revision)
    ).all()
    schema = {
        "item_id": pl.Int64,
        "location_id": pl.Int64,
        "upper_quantile_units": pl.Float64,
        "promoted_units": pl.Float64,
        "p10": pl.Float64,
        "p90": pl.Float64,
        "baseline_units": pl.Float64,
        "on_hand": pl.Float64,
        "in_transit": pl.Float64,
        "allocated": pl.Float64,
    }
    return _frame(rows, schema)


def forecast_models(session: Session, promotion_id: int, revision: int) -> pl.DataFrame:
    """model_version, inputs_hash and line count of the forecast stored for the revision."""
    rows = session.execute(
        sa.select(ForecastLine.model_version, ForecastLine.inputs_hash, sa.func.count())
        .where(ForecastLine.promotion_id == promotion_id, ForecastLine.revision == revision)
        .group_by(ForecastLine.model_version, ForecastLine.inputs_hash)
        .order_by(ForecastLine.model_version, ForecastLine.inputs_hash)
    ).all()
    return _frame(rows, {"model_version": pl.String, "inputs_hash": pl.String, "lines": pl.Int64})


def on_order_before(session: Session, promotion_id: int, start: date) -> pl.DataFrame:
    """Open purchase-order units due at target locations before the start date."""
    rows = inventory_service.outstanding_on_order(
        session, _scope_items(promotion_id), _scope_locations(promotion_id), start
    )
    schema = {"item_id": pl.Int64, "location_id": pl.Int64, "on_order_before_start": pl.Float64}
    return _frame(rows, schema)


def linked_purchase_orders(session: Session, promotion_id: int) -> pl.DataFrame:
    """One row per line of the purchase orders raised for this promotion."""
    rows = session.execute(
        sa.select(
            PurchaseOrder.number,
            Supplier.code,
            PurchaseOrder.ack_status,
            PurchaseOrder.ack_due_at,
            PurchaseOrder.acknowledged_at,
            PurchaseOrder.supplier_id,
            PurchaseOrder.due_date,
            PurchaseOrderLine.item_id,
            PurchaseOrderLine.quantity,
            PurchaseOrderLine.confirmed_quantity,
        )
        .join(Supplier, Supplier.id == PurchaseOrder.supplier_id)
        .join(PurchaseOrderLine, PurchaseOrderLine.purchase_order_id == PurchaseOrder.id)
        .where(PurchaseOrder.promotion_id == promotion_id, PurchaseOrder.status != "cancelled")
        .order_by(PurchaseOrder.number, PurchaseOrderLine.id)
    ).all()
    data = [(*row[:3], _utc(row[3]), _utc(row[4]), *row[5:]) for row in rows]
    schema = {
        "po_number": pl.String,
        "supplier": pl.String,
        "ack_status": pl.String,
        "ack_due_at": UTC_MICROS,
        "acknowledged_at": UTC_MICROS,
        "supplier_id": pl.Int64,
        "due_date": pl.Date,
        "item_id": pl.Int64,
        "quantity": pl.Float64,
        "confirmed_quantity": pl.Float64,
    }
    return _frame(data, schema)


RECEIVED_EVENT = "io.promoflow.purchase_order.received"


def supplier_history(session: Session, since: datetime) -> pl.DataFrame:
    """Every supplier's purchase orders ordered since `since`, one row per PO.

    The receipt date is when promoflow recorded the PO as received (the
    purchase_order.received event): the PO row keeps no date of its own. Cancelled and
    rejected POs say nothing about delivery and are left out. All suppliers are
    returned: the pool a supplier's own few orders are shrunk towards.
    """
    received = (
        sa.select(Event.subject, sa.func.min(Event.time).label("received_at"))
        .where(Event.type == RECEIVED_EVENT)
        .group_by(Event.subject)
        .subquery()
    )
    lines = (
        sa.select(
            PurchaseOrderLine.purchase_order_id,
            sa.func.sum(PurchaseOrderLine.quantity).label("quantity"),
            sa.func.sum(PurchaseOrderLine.received_quantity).label("received_quantity"),
        )
        .group_by(PurchaseOrderLine.purchase_order_id)
        .subquery()
    )
    rows = session.execute(
        sa.select(
            PurchaseOrder.supplier_id,
            PurchaseOrder.status,
            PurchaseOrder.ordered_at,
            PurchaseOrder.due_date,
            received.c.received_at,
            lines.c.quantity,
            lines.c.received_quantity,
        )
        .join(lines, lines.c.purchase_order_id == PurchaseOrder.id)
        .outerjoin(received, received.c.subject == "purchase_order/" + PurchaseOrder.number)
        .where(
            PurchaseOrder.ordered_at >= since,
            PurchaseOrder.status != "cancelled",
            PurchaseOrder.ack_status != "rejected",
        )
    ).all()
    data = [
        (supplier, status, _utc(ordered), due, _utc(got), float(qty), float(rec))
        for supplier, status, ordered, due, got, qty, rec in rows
    ]
    schema = {
        "supplier_id": pl.Int64,
        "status": pl.String,
        "ordered_at": UTC_MICROS,
        "due_date": pl.Date,
        "received_at": UTC_MICROS,
        "quantity": pl.Float64,
        "received_quantity": pl.Float64,
    }
    return _frame(data, schema)


def published_promo_prices(session: Session, promotion_id: int) -> pl.DataFrame:
    """Promo price rows already written for this promotion, per item x channel."""
    rows = session.execute(
        sa.select(Price.item_id, Price.channel, Price.amount)
        .where(Price.promotion_id == promotion_id, Price.kind == "promo")
        .distinct()
    ).all()
    data = [(item, channel, float(amount)) for item, channel, amount in rows]
    return _frame(data, {"item_id": pl.Int64, "channel": pl.String, "amount": pl.Float64})


def approval_tasks(session: Session, promotion_id: int, revision: int) -> pl.DataFrame:
    """role, status of every approval task of the revision."""
    rows = session.execute(
        sa.select(ApprovalTask.role, ApprovalTask.status)
        .where(ApprovalTask.promotion_id == promotion_id, ApprovalTask.revision == revision)
        .order_by(ApprovalTask.role)
    ).all()
    return _frame(rows, {"role": pl.String, "status": pl.String})


def store_tasks(session: Session, promotion_id: int, revision: int) -> pl.DataFrame:
    """location_id, kind, status of every store readiness task of the revision."""
    rows = session.execute(
        sa.select(StoreTask.location_id, StoreTask.kind, StoreTask.status).where(
            StoreTask.promotion_id == promotion_id, StoreTask.revision == revision
        )
    ).all()
    return _frame(rows, {"location_id": pl.Int64, "kind": pl.String, "status": pl.String})


def channel_ranging(session: Session, promotion_id: int) -> pl.DataFrame:
    """Per promoted item: target stores (pos) and e-commerce nodes carrying it.

    Also returns how many locations each channel has, so a missing e-commerce node
    reads differently from an item the node does not carry.
    """
    item = PromotionItem.item_id
    pos = (
        sa.select(sa.func.count())
        .select_from(Ranging)
        .join(PromotionLocation, PromotionLocation.location_id == Ranging.location_id)
        .where(PromotionLocation.promotion_id == promotion_id, Ranging.item_id == item)
        .scalar_subquery()
    )
    web = (
        sa.select(sa.func.count())
        .select_from(Ranging)
        .join(Location, Location.id == Ranging.location_id)
        .where(Location.kind == "ecommerce", Ranging.item_id == item)
        .scalar_subquery()
    )
    rows = session.execute(
        sa.select(item, pos, web).where(PromotionItem.promotion_id == promotion_id)
    ).all()
    n_pos = session.scalar(
        sa.select(sa.func.count()).where(PromotionLocation.promotion_id == promotion_id)
    )
    n_web = session.scalar(
        sa.select(sa.func.count()).select_from(Location).where(Location.kind == "ecommerce")
    )
    data = [(i, "pos", p, n_pos or 0) for i, p, _ in rows]
    data += [(i, "ecommerce", w, n_web or 0) for i, _, w in rows]
    schema = {
        "item_id": pl.Int64,
        "channel": pl.String,
        "ranged_locations": pl.Int64,
        "channel_locations": pl.Int64,
    }
    return _frame(data, schema)


def finance_approved(session: Session, promotion_id: int, revision: int) -> bool:
    """Whether a finance_approver approval task of the revision is approved."""
    found = session.scalar(
        sa.select(sa.func.count()).where(
            ApprovalTask.promotion_id == promotion_id,
            ApprovalTask.revision == revision,
            ApprovalTask.role == Role.FINANCE_APPROVER,
            ApprovalTask.status == TaskStatus.APPROVED,
        )
    )
    return bool(found)


def last_evaluation(session: Session, promotion_id: int, revision: int) -> int:
    """The newest evaluation round number of the revision (0 when never evaluated)."""
    newest = session.scalar(
        sa.select(sa.func.max(GateResult.evaluation)).where(
            GateResult.promotion_id == promotion_id, GateResult.revision == revision
        )
    )
    return int(newest or 0)


def results_of_round(
    session: Session, promotion_id: int, revision: int, evaluation: int
) -> list[GateResult]:
    """The gate results of one evaluation round, in policy order of insertion."""
    return list(
        session.scalars(
            sa.select(GateResult)
            .where(
                GateResult.promotion_id == promotion_id,
                GateResult.revision == revision,
                GateResult.evaluation == evaluation,
            )
            .order_by(GateResult.id)
        ).all()
    )


def waivers(session: Session, promotion_id: int, revision: int) -> list[GateWaiver]:
    """Every waiver given on the revision, oldest first (several per gate are possible)."""
    return list(
        session.scalars(
            sa.select(GateWaiver)
            .where(GateWaiver.promotion_id == promotion_id, GateWaiver.revision == revision)
            .order_by(GateWaiver.id)
        ).all()
    )


def failure_counts(session: Session) -> dict[str, int]:
    """Failed gate results per gate, over every evaluation ever made (rows are never removed)."""
    rows = session.execute(
        sa.select(GateResult.gate, sa.func.count())
        .where(GateResult.status == GateStatus.FAIL)
        .group_by(GateResult.gate)
    ).all()
    return {gate: int(count) for gate, count in rows}

"""Withdrawing a closed revision's purchase orders, as transactions (`runtime.run_tx`):
each writes and checkpoints together, exactly once even across a crash."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from promoflow.exceptions import service as exceptions_service
from promoflow.inventory import service as inventory_service
from promoflow.inventory.models import PurchaseOrder
from promoflow.promotions import service as promotions_service

CASE_ACTIONS = ["retry", "waive", "reassign", "escalate"]
PLANNER = "supply_chain_planner"
WHY = {
    "confirmed": "the supplier has confirmed it",
    "refused": "the supplier's system refused to cancel it",
    "unsupported": "the supplier's system cannot cancel orders through its API",
    "failed": "cancelling it failed after retries",
}


def orders_to_withdraw(session: Session, promotion_id: int) -> list[dict[str, Any]]:
    """The promotion's open POs, each with the idempotency key of its cancellation."""
    promotion = promotions_service.get_promotion(session, promotion_id)
    prefix = f"{promotion.code}-r{promotion.revision}-cancel"
    return [
        {**order, "key": f"{prefix}-{order['number']}"}
        for order in inventory_service.open_purchase_orders(session, promotion_id)
    ]


def order_state(session: Session, number: str) -> dict[str, str]:
    """Status and acknowledgement of one PO, read fresh after a planner's decision."""
    row = session.execute(
        sa.select(PurchaseOrder.status, PurchaseOrder.ack_status).where(
            PurchaseOrder.number == number
        )
    ).one()
    return {"status": row.status, "ack_status": row.ack_status}


def order_cancelled(session: Session, number: str, reason: str, detail: str) -> bool:
    """Record the cancellation the supplier's system confirmed (with its event)."""
    return inventory_service.cancel_purchase_order(session, number, reason=reason, detail=detail)


def open_order_case(
    session: Session, promotion_id: int, order: dict[str, Any], outcome: str, detail: str
) -> int:
    """A purchase_order_cancellation case naming the PO, for the supply chain planner."""
    promotion = promotions_service.get_promotion(session, promotion_id)
    units = sum(float(units) for _, units in order["lines"])
    why = WHY.get(outcome, outcome)
    case = exceptions_service.open_case(
        session,
        kind="purchase_order_cancellation",
        severity="medium",
        owner_role=PLANNER,
        title=f"{promotion.code} is {promotion.status}, but PO {order['number']} "
        f"({units:,.0f} units from {order['supplier']}) stands: {why}",
        detail=(f"{detail}. " if detail else "")
        + f"Agree a cancellation with {order['supplier']} and choose retry: "
        "promoflow asks the supplier's system again and records the order cancelled once "
        "it is. Or waive with a reason to keep the order: its units stay on order for "
        f"{order['destination']} and later plans count them.",
        promotion=promotion,
        linked={
            "purchase_order": order["number"],
            "supplier": order["supplier"],
            "destination": order["destination"],
            "lines": order["lines"],
            "outcome": outcome,
        },
        allowed_actions=CASE_ACTIONS,
        workflow_id=promotion.workflow_id,
    )
    return case.id

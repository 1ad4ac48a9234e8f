"""Withdrawing a closed revision's purchase orders, as transactions (`runtime.run_tx`):
each writes and checkpoints together, exactly once even across a crash. DBOS names
each after its function, and a workflow in flight replays them by it."""

from __future__ import annotations

from typing import cast

from sqlalchemy.orm import Session

from promoflow.exceptions.schemas import CaseAction, CaseKind, CaseSpec, Severity
from promoflow.inventory import service as inventory_service
from promoflow.kit.roles import Role
from promoflow.lifecycle import repository as repo
from promoflow.lifecycle.case_tx import open_promotion_case
from promoflow.lifecycle.schemas import OpenOrder, OrderState, OrderToWithdraw
from promoflow.promotions import service as promotions_service

CASE_ACTIONS = (CaseAction.RETRY, CaseAction.WAIVE, CaseAction.REASSIGN, CaseAction.ESCALATE)
PLANNER = Role.SUPPLY_CHAIN_PLANNER
WHY = {
    "confirmed": "the supplier has confirmed it",
    "refused": "the supplier's system refused to cancel it",
    "unsupported": "the supplier's system cannot cancel orders through its API",
    "failed": "cancelling it failed after retries",
}


def orders_to_withdraw(session: Session, promotion_id: int) -> list[OrderToWithdraw]:
    """The promotion's open POs, each with the idempotency key of its cancellation."""
    promotion = promotions_service.get_promotion(session, promotion_id)
    prefix = f"{promotion.code}-r{promotion.revision}-cancel"
    orders = cast(list[OpenOrder], inventory_service.open_purchase_orders(session, promotion_id))
    return [{**order, "key": f"{prefix}-{order['number']}"} for order in orders]


def order_state(session: Session, number: str) -> OrderState:
    """Status and acknowledgement of one PO, read fresh after a planner's decision."""
    status, ack_status = repo.order_status(session, number)
    return {"status": status, "ack_status": ack_status}


def order_cancelled(session: Session, number: str, reason: str, detail: str) -> bool:
    """Record the cancellation the supplier's system confirmed (with its event)."""
    return inventory_service.cancel_purchase_order(session, number, reason=reason, detail=detail)


def open_order_case(
    session: Session, promotion_id: int, order: OrderToWithdraw, outcome: str, detail: str
) -> int:
    """A purchase_order_cancellation case naming the PO, for the supply chain planner."""
    promotion = promotions_service.get_promotion(session, promotion_id)
    units = sum(float(units) for _, units in order["lines"])
    why = WHY.get(outcome, outcome)
    spec = CaseSpec(
        kind=CaseKind.PURCHASE_ORDER_CANCELLATION,
        severity=Severity.MEDIUM,
        owner_role=PLANNER,
        title=f"{promotion.code} is {promotion.status}, but PO {order['number']} "
        f"({units:,.0f} units from {order['supplier']}) stands: {why}",
        detail=(f"{detail}. " if detail else "")
        + f"Agree a cancellation with {order['supplier']} and choose retry: "
        "promoflow asks the supplier's system again and records the order cancelled once "
        "it is. Or waive with a reason to keep the order: its units stay on order for "
        f"{order['destination']} and later plans count them.",
        allowed_actions=CASE_ACTIONS,
        linked={
            "purchase_order": order["number"],
            "supplier": order["supplier"],
            "destination": order["destination"],
            "lines": order["lines"],
            "outcome": outcome,
        },
    )
    return open_promotion_case(session, promotion, spec).id

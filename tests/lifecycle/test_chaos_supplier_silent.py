"""Chaos (d): a supplier never acknowledges a promotion's purchase order.

The supplier gate fails while the acknowledgement is awaited, and the moment the
PO's acknowledgement is overdue the workflow escalates: a supplier_shortfall case
for the supply chain planner naming the PO, weeks before the launch date rather
than on it (the case a blocked launch opens). The launch stays blocked by the gate.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from lifecycle_support import cases, desk_for, drive, make_planned, submit, wait_until

from promoflow.catalog.models import Item, Supplier
from promoflow.connectors.sandbox import supplier_portal
from promoflow.gates.models import GateResult
from promoflow.inventory.models import PurchaseOrder
from promoflow.lifecycle import commands
from promoflow.promotions.models import Promotion
from promoflow.runtime import Runtime


def _supplier_of(rt: Runtime, sku: str) -> str:
    with rt.sessions() as session:
        code = session.scalar(
            sa.select(Supplier.code)
            .join(Item, Item.supplier_id == Supplier.id)
            .where(Item.sku == sku)
        )
    assert code is not None
    return code


def _orders(rt: Runtime, promotion_id: int) -> list[PurchaseOrder]:
    with rt.sessions() as session:
        return list(
            session.scalars(
                sa.select(PurchaseOrder).where(PurchaseOrder.promotion_id == promotion_id)
            ).all()
        )


def test_a_silent_supplier_fails_the_gate_and_is_escalated_when_the_ack_falls_due(
    rt: Runtime,
) -> None:
    planned = make_planned(rt, items=1, weeks_of_cover=0.0, dc_units=0.0)
    supplier = _supplier_of(rt, planned.skus[0])
    supplier_portal.set_supplier_behaviour(rt.sessions, supplier, never_ack=True)
    try:
        # Launch 400 business hours out; the PO's acknowledgement is due after 24.
        submit(planned, launch_lead_hours=400.0)
        desk = desk_for(planned)

        def overdue_cases() -> list[object]:
            return [
                c
                for c in cases(rt, planned.promotion_id, "supplier_shortfall")
                if c.title.startswith("supplier acknowledgement overdue")
            ]

        wait_until(lambda: bool(overdue_cases()), "the overdue acknowledgement case", desk=desk)
    finally:
        supplier_portal.set_supplier_behaviour(rt.sessions, supplier)
    case = overdue_cases()[0]
    orders = _orders(rt, planned.promotion_id)
    assert orders and all(o.ack_status == "pending" for o in orders)
    assert (case.owner_role, case.status, case.severity) == (  # type: ignore[attr-defined]
        "supply_chain_planner",
        "open",
        "high",
    )
    assert sorted(case.linked["purchase_orders"]) == sorted(o.number for o in orders)  # type: ignore[attr-defined]
    # On time: not before the acknowledgement fell due, and long before the launch.
    due = min(o.ack_due_at for o in orders if o.ack_due_at is not None)
    assert due <= case.opened_at  # type: ignore[attr-defined]
    with rt.sessions() as session:
        verdict = session.scalars(
            sa.select(GateResult)
            .where(
                GateResult.promotion_id == planned.promotion_id,
                GateResult.gate == "supplier_commitments",
            )
            .order_by(GateResult.id.desc())
        ).first()
    assert verdict is not None and verdict.status == "fail"
    assert "acknowledgement overdue" in verdict.summary
    with rt.sessions() as session:
        promotion = session.get(Promotion, planned.promotion_id)
        assert promotion is not None
        launch_at = datetime.fromisoformat(promotion.timing["launch_at"])
        assert promotion.status == "scheduled"  # held at the gates, not launched
    assert case.opened_at < launch_at  # type: ignore[attr-defined]  # escalated before launch
    commands.cancel_promotion(planned.promotion_id, "ada.admin", "operations_admin", "test over")
    drive(planned, lambda s: s == "cancelled", desk=desk)
    # Cancelling a promotion leaves its purchase orders open (they are the buyer's to
    # cancel with the supplier); this one's would count as stock on order for the item
    # in later tests' replenishment plans.
    with rt.sessions() as session, session.begin():
        session.execute(
            sa.update(PurchaseOrder)
            .where(PurchaseOrder.promotion_id == planned.promotion_id)
            .values(status="cancelled")
        )

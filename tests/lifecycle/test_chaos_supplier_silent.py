"""Chaos (d): a supplier never acknowledges a promotion's purchase order.

The supplier gate fails while the acknowledgement is awaited, and the moment the
PO's acknowledgement is overdue the workflow escalates: a supplier_shortfall case
for the supply chain planner naming the PO, weeks before the launch date rather
than on it (the case a blocked launch opens). The launch stays blocked by the gate;
cancelled then, the promotion withdraws the PO from the silent supplier.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from lifecycle_support import (
    cases,
    desk_for,
    drive,
    make_planned,
    purchase_orders,
    submit,
    supplier_of,
    wait_until,
)

from promoflow.connectors.sandbox import supplier_portal
from promoflow.gates.models import GateResult
from promoflow.lifecycle import commands
from promoflow.promotions.models import Promotion
from promoflow.runtime import Runtime


def test_a_silent_supplier_fails_the_gate_and_is_escalated_when_the_ack_falls_due(
    rt: Runtime,
) -> None:
    planned = make_planned(rt, items=1, weeks_of_cover=0.0, dc_units=0.0)
    supplier = supplier_of(rt, planned.skus[0])
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
        case = overdue_cases()[0]
        orders = purchase_orders(rt, planned.promotion_id)
        _check_escalation(rt, planned.promotion_id, case, orders)
        # Cancelled while the supplier is still silent: its POs are withdrawn, so they no
        # longer count as stock on order for later tests' plans of the item.
        commands.cancel_promotion(
            planned.promotion_id, "ada.admin", "operations_admin", "test over"
        )
        drive(planned, lambda s: s == "cancelled", desk=desk)
    finally:
        supplier_portal.set_supplier_behaviour(rt.sessions, supplier)
    assert {o.status for o in purchase_orders(rt, planned.promotion_id)} == {"cancelled"}


def _check_escalation(rt: Runtime, promotion_id: int, case: Any, orders: list[Any]) -> None:
    """One supplier_shortfall case for the planner, opened when the ack fell due."""
    assert orders and all(o.ack_status == "pending" for o in orders)
    assert (case.owner_role, case.status, case.severity) == (
        "supply_chain_planner",
        "open",
        "high",
    )
    assert sorted(case.linked["purchase_orders"]) == sorted(o.number for o in orders)
    # On time: not before the acknowledgement fell due, and long before the launch.
    due = min(o.ack_due_at for o in orders if o.ack_due_at is not None)
    assert due <= case.opened_at
    with rt.sessions() as session:
        verdict = session.scalars(
            sa.select(GateResult)
            .where(
                GateResult.promotion_id == promotion_id,
                GateResult.gate == "supplier_commitments",
            )
            .order_by(GateResult.id.desc())
        ).first()
    assert verdict is not None and verdict.status == "fail"
    assert "acknowledgement overdue" in verdict.summary
    with rt.sessions() as session:
        promotion = session.get(Promotion, promotion_id)
        assert promotion is not None
        launch_at = datetime.fromisoformat(promotion.timing["launch_at"])
        assert promotion.status == "scheduled"  # held at the gates, not launched
    assert case.opened_at < launch_at  # escalated before launch

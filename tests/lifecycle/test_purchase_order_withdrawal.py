"""A cancelled or rejected promotion withdraws the purchase orders raised for it.

Open POs kept counting as stock on order for later plans of the same items. Now
the POs its supplier has not confirmed are cancelled at the supplier portal (once
each) and stop counting; a PO the supplier confirmed goes to the supply chain
planner as a case and stays on order until they decide.
"""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
import sqlalchemy as sa
from lifecycle_support import (
    Planned,
    cases,
    desk_for,
    drive,
    make_planned,
    purchase_orders,
    submit,
    supplier_of,
    wait_until,
)

from promoflow.allocation.inputs import load_inputs
from promoflow.connectors.sandbox import supplier_portal
from promoflow.connectors.sandbox.client import requests
from promoflow.connectors.sandbox.models import SandboxPurchaseOrder
from promoflow.events.models import Event
from promoflow.inventory import service as inventory_service
from promoflow.inventory.models import PurchaseOrderLine
from promoflow.kit.db import transaction
from promoflow.lifecycle import commands
from promoflow.promotions import service as promotions_service
from promoflow.promotions.models import Promotion
from promoflow.promotions.schemas import PromotionCreate
from promoflow.runtime import Runtime
from promoflow.scenario import estate_actions

PORTAL = "sandbox-supplier-portal"


def _ordered(rt: Runtime, promotion_id: int) -> float:
    """Units on the POs raised for the promotion."""
    with rt.sessions() as session:
        units = session.scalar(
            sa.select(sa.func.sum(PurchaseOrderLine.quantity)).where(
                PurchaseOrderLine.purchase_order_id.in_(
                    [o.id for o in purchase_orders(rt, promotion_id)]
                )
            )
        )
    return float(units or 0.0)


def _on_order(rt: Runtime, promotion_id: int) -> float:
    """Units still to arrive of the promotion's items at its POs' DCs (any PO counts)."""
    orders = purchase_orders(rt, promotion_id)
    with rt.sessions() as session:
        item_ids = set(
            session.scalars(
                sa.select(PurchaseOrderLine.item_id).where(
                    PurchaseOrderLine.purchase_order_id.in_([o.id for o in orders])
                )
            ).all()
        )
        far = max(o.due_date for o in orders) + timedelta(days=1)
        rows = inventory_service.outstanding_on_order(
            session, item_ids, {o.destination_id for o in orders}, far
        )
    return sum(units for _, _, units in rows)


def _next_promotion_on(rt: Runtime, planned: Planned) -> int:
    """A later draft on the same items and region: what its plan counts as due at the DC."""
    with rt.sessions() as session:
        earlier = promotions_service.get_promotion(session, planned.promotion_id)
        start = earlier.start_date + timedelta(weeks=20)
    created = commands.create_promotion(
        PromotionCreate(
            code=f"T-{uuid.uuid4().hex[:8]}",
            name="the next promotion on these items",
            start_date=start,
            end_date=start + timedelta(days=6),
            items=planned.skus,
            regions=[planned.region],
            mechanic="percent_off",
            discount_percent=10,
            channels=["pos"],
        ),
        "mia.merch",
    )
    return created.id


def _due_at_dc(rt: Runtime, promotion_id: int) -> float:
    with rt.sessions() as session:
        promotion = session.get(Promotion, promotion_id)
        assert promotion is not None
        return float(load_inputs(session, promotion).dc_due["on_order_due"].sum())


def _cancel_calls(rt: Runtime, number: str) -> list[str]:
    return [
        r["outcome"]
        for r in requests(rt.sessions, PORTAL, "cancel_purchase_order")
        if r["key"].endswith(f"-cancel-{number}")
    ]


def _at_portal(rt: Runtime, promotion_id: int) -> bool:
    """Every PO raised for the promotion has reached the supplier portal."""
    numbers = {o.number for o in purchase_orders(rt, promotion_id)}
    with rt.sessions() as session:
        sent = set(
            session.scalars(
                sa.select(SandboxPurchaseOrder.number).where(
                    SandboxPurchaseOrder.number.in_(numbers)
                )
            ).all()
        )
    return bool(numbers) and sent == numbers


def _workflow_done(planned: Planned) -> bool:
    status = commands.workflow_status(planned.workflow_id)
    return status is not None and status["status"] == "SUCCESS"


def test_cancelling_cancels_the_unconfirmed_pos_once_and_the_next_plan_sees_them_gone(
    rt: Runtime,
) -> None:
    planned = make_planned(rt, items=1, weeks_of_cover=0.0, dc_units=0.0)
    supplier = supplier_of(rt, planned.skus[0])
    supplier_portal.set_supplier_behaviour(rt.sessions, supplier, never_ack=True)
    try:
        submit(planned, launch_lead_hours=400.0)
        desk = desk_for(planned)
        wait_until(
            lambda: _at_portal(rt, planned.promotion_id),
            "the replenishment POs at the supplier portal",
            desk=desk,
        )
        orders = purchase_orders(rt, planned.promotion_id)
        ordered = _ordered(rt, planned.promotion_id)
        on_order = _on_order(rt, planned.promotion_id)
        later = _next_promotion_on(rt, planned)
        due_before = _due_at_dc(rt, later)
        assert due_before >= ordered > 0

        commands.cancel_promotion(planned.promotion_id, "ada.admin", "operations_admin", "pulled")
        drive(planned, lambda s: s == "cancelled", desk=desk)
        wait_until(lambda: _workflow_done(planned), "the workflow to finish")
    finally:
        supplier_portal.set_supplier_behaviour(rt.sessions, supplier)

    assert {o.status for o in purchase_orders(rt, planned.promotion_id)} == {"cancelled"}
    for order in orders:
        assert _cancel_calls(rt, order.number) == ["applied"]  # once, at the portal
    assert _on_order(rt, planned.promotion_id) == pytest.approx(on_order - ordered)
    # The next promotion's plan of the same items no longer trusts them.
    assert _due_at_dc(rt, later) == pytest.approx(due_before - ordered)
    with rt.sessions() as session:
        cancelled = session.scalars(
            sa.select(Event.subject).where(
                Event.type == "io.promoflow.purchase_order.cancelled",
                Event.promotion_id == planned.promotion_id,
            )
        ).all()
    assert sorted(cancelled) == sorted(f"purchase_order/{o.number}" for o in orders)
    assert not cases(rt, planned.promotion_id, "purchase_order_cancellation")
    commands.cancel_promotion(later, "mia.merch", "merchandiser", "test over")


def test_a_po_the_supplier_confirmed_goes_to_the_planner_and_stays_on_order(rt: Runtime) -> None:
    planned = make_planned(rt, items=1, weeks_of_cover=0.0, dc_units=0.0)
    supplier_portal.set_supplier_behaviour(rt.sessions, supplier_of(rt, planned.skus[0]))
    submit(planned, launch_lead_hours=400.0)
    desk = desk_for(planned)
    wait_until(
        lambda: (
            bool(orders := purchase_orders(rt, planned.promotion_id))
            and all(o.ack_status == "acknowledged" for o in orders)
        ),
        "the supplier's acknowledgement",
        desk=desk,
    )
    on_order = _on_order(rt, planned.promotion_id)

    commands.cancel_promotion(planned.promotion_id, "ada.admin", "operations_admin", "pulled")
    drive(planned, lambda s: s == "cancelled", desk=desk)
    wait_until(
        lambda: bool(cases(rt, planned.promotion_id, "purchase_order_cancellation")),
        "the planner's case",
    )

    (case,) = cases(rt, planned.promotion_id, "purchase_order_cancellation")
    (order,) = purchase_orders(rt, planned.promotion_id)
    assert (case.owner_role, case.status) == ("supply_chain_planner", "open")
    assert case.linked["purchase_order"] == order.number
    assert case.linked["outcome"] == "confirmed"
    assert order.number in case.title and "confirmed" in case.title
    assert order.status == "open" and _on_order(rt, planned.promotion_id) == on_order
    assert _cancel_calls(rt, order.number) == []  # a confirmed PO is not cancelled behind them
    assert not _workflow_done(planned)  # the workflow waits for the planner's decision

    commands.resolve_exception(
        case.id, "waive", "sasha.supply", "supply_chain_planner", "keep it for the next event"
    )
    wait_until(lambda: _workflow_done(planned), "the workflow to finish")
    (kept,) = purchase_orders(rt, planned.promotion_id)
    assert kept.status == "open" and _on_order(rt, planned.promotion_id) == on_order
    # Tidy up: later tests promote these items again and must not plan on this order.
    with transaction(rt.sessions) as session:
        inventory_service.mark_received(session, [kept.number])


def test_rejecting_a_promotion_withdraws_the_pos_raised_for_it(rt: Runtime) -> None:
    planned = make_planned(rt, items=2, weeks_of_cover=0.0, dc_units=0.0)
    suppliers = {supplier_of(rt, sku) for sku in planned.skus}
    try:
        # The planner ordered ahead for the promotion; the suppliers have not answered yet.
        numbers = estate_actions.raise_replenishment(
            rt, planned.promotion_id, weeks_of_cover=2.0, ack_after_seconds=1e9
        )
        ordered = _ordered(rt, planned.promotion_id)
        on_order = _on_order(rt, planned.promotion_id)
        assert numbers and on_order >= ordered > 0
        submit(planned)
        desk = desk_for(planned, reject_by="pricing_analyst", reject_comment="price not agreed")
        assert drive(planned, lambda s: s == "rejected", desk=desk) == "rejected"
        wait_until(lambda: _workflow_done(planned), "the workflow to finish")
    finally:
        for supplier in suppliers:
            supplier_portal.set_supplier_behaviour(rt.sessions, supplier)

    assert {o.number: o.status for o in purchase_orders(rt, planned.promotion_id)} == {
        number: "cancelled" for number in numbers
    }
    assert _on_order(rt, planned.promotion_id) == pytest.approx(on_order - ordered)
    for number in numbers:
        assert _cancel_calls(rt, number) == ["applied"]
    assert not cases(rt, planned.promotion_id, "purchase_order_cancellation")

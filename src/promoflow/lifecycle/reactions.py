"""Event-driven reactions: facts that can unblock a launch, or move a live promotion.

- inventory changed -> the launch gates of promotions on those items are re-evaluated;
- a PO raised for a promotion is acknowledged -> its supplier gate is re-checked;
- sales reported for items of live promotions -> their sell-through is checked now.

Each is an idempotent consumer (`events.consumers`): the same event is applied once
whichever bus delivers it and however often. The first two wake the waiting
workflow after commit (a repeated wake-up is harmless: it re-reads the database;
a lost one only delays, since the workflow also re-checks on its own timer).
"""

from __future__ import annotations

from collections.abc import Callable

from promoflow.allocation import live_monitoring
from promoflow.events.bus import EventBus
from promoflow.events.consumers import Consumer, Delivery
from promoflow.lifecycle import signals
from promoflow.promotions import repository as promotions_repository


def on_inventory_changed(delivery: Delivery) -> None:
    """Inventory moved: re-evaluate the gates of promotions on those items."""
    item_ids = [int(i) for i in delivery.data.get("item_ids", [])]
    if not item_ids:
        return
    workflow_ids = promotions_repository.gated_workflows_for_items(delivery.session, item_ids)
    event_id = delivery.event["id"]
    for workflow_id in workflow_ids:
        delivery.after_commit(_wake(workflow_id, event_id))


def on_purchase_order_acknowledged(delivery: Delivery) -> None:
    """A supplier acknowledged a PO raised for a promotion: re-check its supplier gate."""
    promotion_id = delivery.data.get("promotion_id")
    if promotion_id is None:
        return
    promotion = promotions_repository.get(delivery.session, int(promotion_id))
    if promotion is not None and promotion.workflow_id:
        delivery.after_commit(_wake(promotion.workflow_id, delivery.event["id"]))


def _wake(workflow_id: str, event_id: str) -> Callable[[], None]:
    def wake() -> None:
        signals.notify(workflow_id, "gates", event_id=event_id)

    return wake


CONSUMERS = (
    Consumer(
        "lifecycle.gates-on-inventory",
        "io.promoflow.inventory.positions.changed",
        on_inventory_changed,
        "re-evaluate the launch gates of promotions on the items whose stock moved",
    ),
    Consumer(
        "lifecycle.supplier-gate-on-ack",
        "io.promoflow.purchase_order.acknowledged",
        on_purchase_order_acknowledged,
        "re-check the supplier gate of the promotion the acknowledged PO was raised for",
    ),
    Consumer(
        "lifecycle.sell-through-on-sales",
        "io.promoflow.sales.reported",
        live_monitoring.on_sales_reported,
        "check sell-through of live promotions on the items that sold",
        prepare=live_monitoring.prepare_checks,
    ),
)


def register(bus: EventBus) -> None:
    """Subscribe the lifecycle's reactions."""
    for consumer in CONSUMERS:
        bus.subscribe(consumer)

"""Event-driven reactions: facts that can unblock a launch wake the waiting workflows."""

from __future__ import annotations

from promoflow.events.bus import CloudEvent, InProcessBus
from promoflow.lifecycle import signals
from promoflow.promotions import repository as promotions_repository
from promoflow.runtime import get_runtime


def on_inventory_changed(event: CloudEvent) -> None:
    """Inventory moved: re-evaluate the gates of promotions on those items."""
    item_ids = [int(i) for i in event["data"].get("item_ids", [])]
    if not item_ids:
        return
    with get_runtime().sessions() as session:
        workflow_ids = promotions_repository.gated_workflows_for_items(session, item_ids)
    for workflow_id in workflow_ids:
        signals.notify(workflow_id, "gates", event_id=event["id"])


def on_purchase_order_acknowledged(event: CloudEvent) -> None:
    """A supplier acknowledged a PO raised for a promotion: re-check its supplier gate."""
    promotion_id = event["data"].get("promotion_id")
    if promotion_id is None:
        return
    with get_runtime().sessions() as session:
        promotion = promotions_repository.get(session, int(promotion_id))
        workflow_id = promotion.workflow_id if promotion else None
    signals.notify(workflow_id, "gates", event_id=event["id"])


def register(bus: InProcessBus) -> None:
    """Subscribe the lifecycle's reactions."""
    bus.subscribe("io.promoflow.inventory.positions.changed", on_inventory_changed)
    bus.subscribe("io.promoflow.purchase_order.acknowledged", on_purchase_order_acknowledged)

"""The planning steps: the plans (read, then solve outside any transaction) and the
calls to the outside world: the policy file, the WMS, the supplier portal, the sales feed.

Like every lifecycle step they are at-least-once: the WMS transfer and the purchase
orders carry an idempotency key derived from the promotion revision and the
recommendation, and the systems answer a repeated key with their first answer.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import asdict
from datetime import date, timedelta
from typing import Any

from dbos import DBOS

from promoflow.connectors import registry
from promoflow.connectors.ports import ConnectorError, PurchaseOrderRequest
from promoflow.kit.clock import utcnow
from promoflow.kit.db import reading
from promoflow.lifecycle import replenishment_plan, stock_planning
from promoflow.lifecycle.planning_policy import PlanningPolicy, load_planning_policy
from promoflow.promotions import repository as promotions_repository
from promoflow.promotions import service as promotions_service
from promoflow.runtime import get_runtime


def _retryable(error: BaseException) -> bool:
    return not (isinstance(error, ConnectorError) and not error.retryable)


@DBOS.step()
def planning_policy() -> dict[str, Any]:
    """The planning policy in force (read once per workflow, so a replay sees the same)."""
    path = get_runtime().settings.policy_path("planning.yaml")
    return load_planning_policy(path).model_dump(mode="json")


def _inputs(promotion_id: int) -> stock_planning.PlanningInputs:
    with reading(get_runtime().workflow_sessions) as session:
        promotion = promotions_service.get_promotion(session, promotion_id)
        return stock_planning.load_inputs(session, promotion)


@DBOS.step()
def plan_allocation(promotion_id: int, policy: dict[str, Any]) -> dict[str, Any]:
    """Read the stock picture, then solve the allocation outside any transaction.

    Read-only, so running it again after a crash is harmless; its answer is checkpointed.
    """
    rules = PlanningPolicy.model_validate(policy)
    given = _inputs(promotion_id)
    return stock_planning.plan_allocation(given, rules.allocation, rules.version).as_dict()


@DBOS.step()
def plan_replenishment(promotion_id: int, policy: dict[str, Any]) -> dict[str, Any]:
    """Read the stock picture (after the allocation), then propose purchase orders."""
    rules = PlanningPolicy.model_validate(policy)
    given = _inputs(promotion_id)
    plan = replenishment_plan.plan_replenishment(
        given, rules.replenishment, rules.version, utcnow().date()
    )
    return plan.as_dict()


@DBOS.step(
    retries_allowed=True,
    max_attempts=4,
    interval_seconds=0.5,
    backoff_rate=2.0,
    should_retry=_retryable,
)
def transfer_stock(key: str, transfers: list[list[Any]]) -> dict[str, Any]:
    """Ask the WMS to ship an allocation (once per key); the positions it reports back."""
    wms = registry.get_stock_transfer_system()
    lines = [(str(s), str(a), str(b), float(q)) for s, a, b, q in transfers]
    records = wms.transfer_stock(key, lines)
    return {"reference": key, "system": wms.system, "positions": [asdict(r) for r in records]}


@DBOS.step(
    retries_allowed=True,
    max_attempts=4,
    interval_seconds=0.5,
    backoff_rate=2.0,
    should_retry=_retryable,
)
def submit_purchase_orders(requests: list[dict[str, Any]]) -> list[str]:
    """Send each purchase order to its supplier under its number as the idempotency key."""
    portal = registry.get_purchase_order_system()
    references = []
    for request in requests:
        order = PurchaseOrderRequest(
            number=request["number"],
            supplier_code=request["supplier_code"],
            destination_code=request["destination_code"],
            due=date.fromisoformat(request["due"]),
            lines=tuple((str(sku), float(units)) for sku, units in request["lines"]),
        )
        references.append(portal.submit_purchase_order(request["number"], order))
    return references


@DBOS.step(
    retries_allowed=True,
    max_attempts=4,
    interval_seconds=0.5,
    backoff_rate=2.0,
    should_retry=_retryable,
)
def cancel_purchase_order(key: str, number: str) -> dict[str, str]:
    """Ask the supplier's system to cancel one PO (under its key); what it answered."""
    answer = registry.get_purchase_order_system().cancel_purchase_order(key, number)
    return {"outcome": answer.outcome, "detail": answer.detail}


@DBOS.step(retries_allowed=True, max_attempts=3, interval_seconds=0.5, backoff_rate=2.0)
def sales_to_date(promotion_id: int, days: int) -> list[list[Any]]:
    """Units sold per (sku, store) over the window's first `days` days, from the sales feed."""
    with reading(get_runtime().workflow_sessions) as session:
        promotion = promotions_service.get_promotion(session, promotion_id)
        skus = [item.sku for _, item in promotions_repository.scope_items(session, promotion_id)]
        codes = [loc.code for loc in promotions_repository.scope_locations(session, promotion_id)]
        start = promotion.start_date
    records = registry.get_sales_feed().sales(skus, codes, start, start + timedelta(days=days - 1))
    totals: dict[tuple[str, str], float] = defaultdict(float)
    for record in records:
        totals[(record.sku, record.location_code)] += record.units
    return [[sku, code, units] for (sku, code), units in sorted(totals.items())]

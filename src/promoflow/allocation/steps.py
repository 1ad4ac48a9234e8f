"""Allocation's steps: the plans (read, then solve outside any transaction) and the
calls to the outside world: the policy file, the WMS, the supplier portal, the sales feed.

Like every lifecycle step they are at-least-once: the WMS transfer and the purchase
orders carry an idempotency key derived from the promotion revision and the
recommendation, and the systems answer a repeated key with their first answer.

Each step's DBOS name is pinned (`name=`): a workflow in flight replays its recorded
steps by name, and these were recorded under these names before they moved here
from `lifecycle.planning_steps`. Renaming a function must not rename its step.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import asdict
from datetime import date, timedelta
from typing import cast

from dbos import DBOS

from promoflow.allocation import allocation_plan, inputs, replenishment_plan
from promoflow.allocation import repository as repo
from promoflow.allocation.policy import PlanningPolicy, load_planning_policy, policy_data
from promoflow.allocation.schemas import (
    OrderRequest,
    PolicyData,
    Shipped,
    ShippedPosition,
    SoldLine,
    StockPlan,
    Transfer,
)
from promoflow.connectors import registry
from promoflow.connectors.ports import ConnectorError, PurchaseOrderRequest
from promoflow.kit.clock import utcnow
from promoflow.kit.db import reading
from promoflow.promotions import service as promotions_service
from promoflow.runtime import get_runtime


def _retryable(error: BaseException) -> bool:
    return not (isinstance(error, ConnectorError) and not error.retryable)


@DBOS.step(name="planning_policy")
def planning_policy() -> PolicyData:
    """The planning policy in force (read once per workflow, so a replay sees the same)."""
    path = get_runtime().settings.policy_path("planning.yaml")
    return policy_data(load_planning_policy(path))


def _inputs(promotion_id: int) -> inputs.PlanningInputs:
    with reading(get_runtime().workflow_sessions) as session:
        promotion = promotions_service.get_promotion(session, promotion_id)
        return inputs.load_inputs(session, promotion)


@DBOS.step(name="plan_allocation")
def plan_allocation(promotion_id: int, policy: PolicyData) -> StockPlan:
    """Read the stock picture, then solve the allocation outside any transaction.

    Read-only, so running it again after a crash is harmless; its answer is checkpointed.
    """
    rules = PlanningPolicy.model_validate(policy)
    given = _inputs(promotion_id)
    return allocation_plan.plan_allocation(given, rules.allocation, rules.version)


@DBOS.step(name="plan_replenishment")
def plan_replenishment(promotion_id: int, policy: PolicyData) -> StockPlan:
    """Read the stock picture (after the allocation), then propose purchase orders."""
    rules = PlanningPolicy.model_validate(policy)
    given = _inputs(promotion_id)
    return replenishment_plan.plan_replenishment(
        given, rules.replenishment, rules.version, utcnow().date()
    )


@DBOS.step(
    name="transfer_stock",
    retries_allowed=True,
    max_attempts=4,
    interval_seconds=0.5,
    backoff_rate=2.0,
    should_retry=_retryable,
)
def transfer_stock(key: str, transfers: list[Transfer]) -> Shipped:
    """Ask the WMS to ship an allocation (once per key); the positions it reports back."""
    wms = registry.get_stock_transfer_system()
    lines = [(str(s), str(a), str(b), float(q)) for s, a, b, q in transfers]
    records = wms.transfer_stock(key, lines)
    positions = [cast(ShippedPosition, asdict(record)) for record in records]
    return {"reference": key, "system": wms.system, "positions": positions}


@DBOS.step(
    name="submit_purchase_orders",
    retries_allowed=True,
    max_attempts=4,
    interval_seconds=0.5,
    backoff_rate=2.0,
    should_retry=_retryable,
)
def submit_purchase_orders(requests: list[OrderRequest]) -> list[str]:
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
    name="sales_to_date",
    retries_allowed=True,
    max_attempts=3,
    interval_seconds=0.5,
    backoff_rate=2.0,
)
def sales_to_date(promotion_id: int, days: int) -> list[SoldLine]:
    """Units sold per (sku, store) over the window's first `days` days, from the sales feed."""
    with reading(get_runtime().workflow_sessions) as session:
        promotion = promotions_service.get_promotion(session, promotion_id)
        skus = repo.scope_items(session, promotion_id)["sku"].to_list()
        codes = repo.scope_stores(session, promotion_id)["code"].to_list()
        start = promotion.start_date
    records = registry.get_sales_feed().sales(skus, codes, start, start + timedelta(days=days - 1))
    totals: dict[tuple[str, str], float] = defaultdict(float)
    for record in records:
        totals[(record.sku, record.location_code)] += record.units
    return [(sku, code, units) for (sku, code), units in sorted(totals.items())]

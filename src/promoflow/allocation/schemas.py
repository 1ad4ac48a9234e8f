"""What allocation's steps and transactions return, as the workflow reads it.

DBOS checkpoints step and transaction outputs with pickle, and a workflow in flight
replays the outputs an earlier release recorded. These are TypedDicts, so at run
time they are the plain dicts (and lists) those releases stored: an old checkpoint
replays unchanged, and no class path is pickled that a later move could break.
Pairs and rows (`Transfer`, `SoldLine`, order lines) are built as tuples; older
checkpoints hold them as lists, which unpack the same way.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, NotRequired, TypedDict

# ---- the planning policy as checkpointed (PlanningPolicy.model_dump(mode="json")) ----


class ReviewRules(TypedDict):
    remind_after_hours: float
    sla_hours: float
    escalate_to: str


class AllocationLimits(TypedDict):
    max_units: float
    max_transfer_cost: float


class AllocationRules(TypedDict):
    transfer_cost_per_unit: float
    filled_unit_value: float
    auto_apply: AllocationLimits
    review: ReviewRules


class ReplenishmentLimits(TypedDict):
    max_units: float
    max_order_value: float


class ReplenishmentRules(TypedDict):
    quantile: str
    safety_stock_share: float
    min_order_units: float
    ack_due_hours: float
    auto_apply: ReplenishmentLimits
    review: ReviewRules


class SellThroughRules(TypedDict):
    check_every_hours: float
    min_elapsed_share: float
    above_p90_factor: float
    below_p10_factor: float
    min_units_gap: float


class PolicyData(TypedDict):
    version: str
    allocation: AllocationRules
    replenishment: ReplenishmentRules
    sell_through: SellThroughRules


# ---- plans ----


class PlanLine(TypedDict):
    """One recommendation line; `details` is what a planner reads (stored as JSON)."""

    item_id: int
    location_id: int
    source_id: int
    quantity: float
    expected_service_level: NotRequired[float]
    details: dict[str, Any]


class Shortfall(TypedDict):
    """Window demand the suppliers cannot cover, and why (too_late, supplier_capacity, ...)."""

    item_id: int
    sku: str
    supplier: str | None
    dc: str
    need_units: float
    order_units: float
    shortfall_units: float
    order_by: str | None
    reasons: list[str]


class StockPlan(TypedDict):
    """A solved allocation or replenishment: its lines and the story a planner reads.

    `summary` is stored with the recommendation as JSON; every plan has `units`,
    an allocation adds `transfer_cost`, a replenishment `order_value`.
    """

    lines: list[PlanLine]
    summary: dict[str, Any]
    model_version: str
    inputs_hash: str
    shortfalls: list[Shortfall]


# ---- proposals and their review ----


class Proposal(TypedDict):
    recommendation_id: int
    kind: str
    status: str
    units: float
    lines: int
    created: float  # epoch seconds: the review SLA counts from here
    case_id: NotRequired[int | None]  # replenishment only: its supplier_shortfall case


class RecommendationState(TypedDict):
    status: str
    decided_by: str | None
    kind: str


# ---- applying a decision ----

Transfer = tuple[str, str, str, float]  # sku, from DC, to store, units


class Shipment(TypedDict):
    key: str  # the WMS's idempotency key
    transfers: list[Transfer]


class ShippedPosition(TypedDict):
    """A `connectors.ports.PositionRecord` as plain data."""

    sku: str
    location_code: str
    on_hand: float
    on_order: float
    in_transit: float
    allocated: float
    as_of: datetime
    source: str


class Shipped(TypedDict):
    reference: str
    system: str
    positions: list[ShippedPosition]


class OrderRequest(TypedDict):
    """A purchase order as sent to the supplier's system."""

    number: str
    supplier_code: str
    destination_code: str
    due: str  # ISO date
    lines: list[tuple[str, float]]  # sku, units


# ---- live sell-through ----

SoldLine = tuple[str, str, float]  # sku, store code, units sold


class SellThroughCheck(TypedDict):
    elapsed_days: int
    window_days: int
    lines_checked: int
    units_sold: float
    anomalies: int
    new_anomalies: int
    case_id: int | None


class PreparedCheck(TypedDict):
    """A sell-through check the sales-reported consumer prepared outside its transaction."""

    promotion_id: int
    days: int
    window_days: int
    sold: list[SoldLine]
    policy: PolicyData

"""What the promotion workflow's steps and transactions return, as the workflow reads it.

DBOS checkpoints step and transaction outputs with pickle, and a workflow in flight
replays the outputs an earlier release recorded. These are TypedDicts, so at run
time they are the plain dicts those releases stored: an old checkpoint replays
unchanged, and no class path is pickled that a later move could break. Rows
(`SoldLine`, order lines) are built as tuples; older checkpoints hold lists, which
unpack the same way.
"""

from __future__ import annotations

from typing import NotRequired, TypedDict


class Submitted(TypedDict):
    code: str
    channels: list[str]
    revision: int


class Validated(TypedDict):
    blocking: list[str]  # the blocking findings' messages (empty: the revision goes on)
    warnings: int


class ForecastTotals(TypedDict):
    """A `forecasting.service.ForecastSummary` as plain data."""

    promotion_id: int
    revision: int
    model_version: str
    inputs_hash: str
    lines: int
    baseline_units: float
    promoted_units: float
    uplift_pct: float
    p90_units: float


class Assessment(TypedDict):
    baseline_units: float
    promoted_units: float
    uplift_pct: float
    model_version: str


class ApprovalSpec(TypedDict):
    """One opened approval task and its SLA milestones, in business hours."""

    task_id: int
    role: str
    created: float  # epoch seconds
    remind_after: float
    escalate_after: float
    expire_after: float
    escalate_to: str | None
    seconds_per_hour: float


class PendingApproval(TypedDict):
    task_id: int
    reminded: bool
    escalated: bool


class ApprovalRound(TypedDict):
    all_approved: bool
    rejected: list[str]  # "role (who): comment"
    expired: list[str]  # roles
    pending: list[PendingApproval]


class GateRound(TypedDict):
    ready: bool
    failing: list[str]
    evaluation: int
    # Missing in rounds recorded before overdue acknowledgements were escalated.
    overdue_acks: NotRequired[list[str]]


class CaseState(TypedDict):
    status: str
    resolution: str | None
    resolved_by: str | None
    reason: str


class PublicationPlan(TypedDict):
    key: str
    parts: int
    size: int  # prices per part, fixed when planned (every process cuts the same parts)
    prices: int


class Receipt(TypedDict):
    """A `connectors.ports.PublicationReceipt` as plain data."""

    key: str
    system: str
    accepted: int
    external_ref: str
    duplicate: bool


SoldLine = tuple[str, str, float]  # sku, store code, units


class Actuals(TypedDict):
    units: float
    revenue: float
    cost: float
    lines: list[SoldLine]  # per SKU x store, for post-event forecast accuracy


class Analysis(TypedDict):
    actual_units: float
    forecast_units: float
    baseline_units: float
    forecast_error_pct: float | None
    realised_lift_pct: float | None
    revenue: float
    margin: float
    vendor_funding: float
    # Present when the revision's forecast could be scored per item x store.
    forecast_model: NotRequired[str]
    forecast_wape: NotRequired[float | None]
    within_p10_p90_share: NotRequired[float | None]
    # The forecast's 80 % interval for the whole scope (per-line P10s and P90s summed).
    forecast_p10_units: NotRequired[float]
    forecast_p90_units: NotRequired[float]
    # The margin the forecast promised (promoted units x (promo price - cost + funding)),
    # and what the allocation sent that did not sell: units, and their value at cost.
    planned_margin: NotRequired[float]
    allocated_units_left: NotRequired[float]
    markdown_exposure: NotRequired[float]


class OpenOrder(TypedDict):
    """An open purchase order of the promotion, as `inventory.service` lists it."""

    number: str
    ack_status: str
    supplier: str
    destination: str
    due: str  # ISO date
    lines: list[tuple[str, float]]  # sku, units


class OrderToWithdraw(OpenOrder):
    key: str  # the idempotency key of its cancellation


class OrderLeft(OrderToWithdraw):
    """A PO a closed revision could not withdraw, and why (confirmed, refused, failed...)."""

    outcome: str
    detail: str


class OrderState(TypedDict):
    status: str
    ack_status: str


class CancelAnswer(TypedDict):
    outcome: str
    detail: str

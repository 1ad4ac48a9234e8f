"""What separates business as usual from promoflow in the ROI simulation, and why.

Every difference between the two arms is one field of `ArmPolicy`, with its value in
each arm and a one-line reason (`ASSUMPTIONS`). Everything else (the estate, the
calendar, demand, approvers' response times, supplier shortfalls) is drawn once per
seed and shared by both arms, so the difference is paired. `SimulationSettings` holds
those shared figures; they shape both arms alike.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from typing import Any

from promoflow.scenario.demand import PROMOTION_ANTICIPATION, SUPPLY_SHORTFALL_RATE


@dataclass(frozen=True)
class ArmPolicy:
    """How a retailer runs a promotion: the levers promoflow changes."""

    launch_gates: bool
    pre_launch_planning: bool
    live_monitoring: bool
    approvals_in_parallel: bool
    approval_escalation_at_sla: bool
    approval_handoff_days: float
    supplier_order_days_before_launch: int
    price_publication_days_before_launch: int
    late_price_store_share: float
    late_price_days: float
    partial_publication_share: float


@dataclass(frozen=True)
class Assumption:
    """One lever: its value in each arm and why business as usual looks like that."""

    name: str
    business_as_usual: Any
    promoflow: Any
    why: str


BUSINESS_AS_USUAL = ArmPolicy(
    launch_gates=False,
    pre_launch_planning=False,
    live_monitoring=False,
    approvals_in_parallel=False,
    approval_escalation_at_sla=False,
    approval_handoff_days=1.0,
    supplier_order_days_before_launch=14,
    price_publication_days_before_launch=1,
    late_price_store_share=0.15,
    late_price_days=2.0,
    partial_publication_share=0.03,
)

PROMOFLOW = ArmPolicy(
    launch_gates=True,
    pre_launch_planning=True,
    live_monitoring=True,
    approvals_in_parallel=True,
    approval_escalation_at_sla=True,
    approval_handoff_days=0.0,
    supplier_order_days_before_launch=28,
    price_publication_days_before_launch=7,
    late_price_store_share=0.0,
    late_price_days=0.0,
    partial_publication_share=0.0,
)

WHY = {
    "launch_gates": "without gates an offer goes live whatever its stock, prices or "
    "approvals; promoflow holds it until gates.yaml's blocking gates pass or expedites stock",
    "pre_launch_planning": "without it stores get the order-up-to quantity that under-calls "
    f"the lift (scenario anticipation {PROMOTION_ANTICIPATION:g}); promoflow orders the "
    "forecast's P90 at the DC and allocates it by the allocation MIP",
    "live_monitoring": "without it nobody compares sell-through with the forecast; promoflow's "
    "sell-through rule flags fast lines daily and stock is moved to them",
    "approvals_in_parallel": "e-mail approvals go from one approver to the next; the approval "
    "matrix asks every role at once",
    "approval_escalation_at_sla": "an unanswered e-mail waits; promoflow escalates at the "
    "role's SLA (approvals.yaml) to operations_admin",
    "approval_handoff_days": "mean days an e-mail request waits before the next approver "
    "sees it (exponential); promoflow's task queue has no hand-off",
    "supplier_order_days_before_launch": "buyers order once the promotion is confirmed, about "
    "two weeks out; promoflow proposes the order at submission (the calendar's lead)",
    "price_publication_days_before_launch": "the promo price goes in the overnight batch "
    "before launch; promoflow publishes a week ahead with effective dates",
    "late_price_store_share": "share of store-items whose price file lands after its "
    "scheduled day (batch feed failures, manual re-keying)",
    "late_price_days": "mean days a late price arrives after its scheduled day (exponential)",
    "partial_publication_share": "share of store-items whose promo price never arrives "
    "(the feed published only part of the file)",
}

ASSUMPTIONS: tuple[Assumption, ...] = tuple(
    Assumption(
        f.name,
        getattr(BUSINESS_AS_USUAL, f.name),
        getattr(PROMOFLOW, f.name),
        WHY[f.name],
    )
    for f in fields(ArmPolicy)
)


def with_promoflow_value(policy: ArmPolicy, name: str) -> ArmPolicy:
    """`policy` with assumption `name` set to promoflow's value."""
    return replace(policy, **{name: getattr(PROMOFLOW, name)})


@dataclass(frozen=True)
class SimulationSettings:
    """Figures shared by both arms: they shape the estate, not the difference."""

    stores: int = 24  # three regions of eight stores: one allocation per promotion stays small
    regions: int = 3  # a promotion runs in one or more whole regions
    skus: int = 160  # about twenty items per category to pick a promotion's lines from
    categories: int = 8  # each promotion stays within one category
    suppliers: int = 6  # few suppliers: a promotion's items often share one's capacity
    items_per_promotion: int = 4  # a typical leaflet line: a handful of SKUs of one category
    planning_lead_days: int = 28  # promotions are submitted four weeks before launch
    promotion_spacing_days: int = 28  # the calendar launches one promotion every four weeks
    forecast_error_sigma: float = 0.25  # log-normal error of the forecast mean per item-store
    store_cover_weeks: float = 1.5  # stores hold this many weeks of baseline sales at launch
    dc_cover_weeks: float = 2.0  # the DC holds this many weeks of its stores' baseline
    allocation_days_before_launch: int = 4  # DC-to-store pushes leave four days ahead
    gate_check_days_before_launch: int = 3  # the last gate evaluation before launch
    expedite_cost_per_unit: float = 0.25  # premium freight for units expedited at the gate
    gate_expedite_share: float = 0.5  # of a gate's shortfall the DC cannot fill, what a
    # supplier can rush in three days; the rest launches short under a waiver
    monitoring_response_days: int = 1  # a flagged line gets its stock the next day
    approver_response_hours: float = 12.0  # mean business hours an approver takes (exponential)
    escalation_response_hours: float = 4.0  # mean business hours operations_admin takes
    business_hours_per_day: float = 8.0  # approval SLAs are business hours
    supply_shortfall_rate: float = SUPPLY_SHORTFALL_RATE  # scenario's short-delivery rate
    bau_lift_anticipation: float = PROMOTION_ANTICIPATION  # BAU orders this share of the lift
    markdown_depth: float = 0.5  # leftover promo stock clears at half its regular price
    markdown_after_weeks: float = 2.0  # leftover two weeks of baseline sales won't clear
    vendor_funding_share: float = 0.5  # scan-back: the supplier pays half of each unit's discount
    normal_cover_weeks: float = 1.5  # stock above this cover after the window is leftover

"""One arm over one seed's calendar: approvals, prices, stock, gates, the window, the bill.

Each promotion runs on its own stock (the calendar's promotions share no item-store in
time), from submission `planning_lead_days` before launch to the window's last day.
Days are counted from the launch day (negative before it).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from promoflow.allocation.policy import PlanningPolicy
from promoflow.gates.policy import GatePolicy
from promoflow.simulation.assumptions import ArmPolicy, SimulationSettings
from promoflow.simulation.gating import check_gates
from promoflow.simulation.prelaunch import (
    Stock,
    allocate_to_stores,
    opening_stock,
    order_from_supplier,
    share_out,
)
from promoflow.simulation.window import sell_window
from promoflow.simulation.world import Floats, Promotion, World

# The figures reported per arm, in table order, with their unit. Lost sales are unmet
# demand at the shelf price; rates are shares of item-store-days of the windows; cycle
# time runs from submission until every approval is given.
METRICS: dict[str, str] = {
    "lost_sales": "lost sales (currency)",
    "stockout_rate": "stockout rate (%)",
    "leftover_units": "leftover stock (units)",
    "markdown": "markdown (currency)",
    "margin": "margin (currency)",
    "cycle_time_days": "cycle time (days)",
    "price_error_rate": "price errors (%)",
}


@dataclass(frozen=True)
class Policies:
    """promoflow's own policy files, loaded once per run."""

    gates: GatePolicy
    planning: PlanningPolicy


@dataclass(frozen=True)
class PromotionResult:
    """One promotion under one arm."""

    code: str
    demand_on_promotion_units: float
    lost_value: float
    stockout_days: int
    item_store_days: int
    leftover_units: float
    markdown: float
    margin: float
    cycle_time_days: float
    price_error_days: int
    launch_day: int
    gates_failed: tuple[str, ...]


def approval_days(promotion: Promotion, policy: ArmPolicy, settings: SimulationSettings) -> float:
    """Days from submission until every required role has approved."""
    if not promotion.approval_roles:
        return 0.0
    hours = promotion.approval_response_hours
    if policy.approval_escalation_at_sla:
        sla = promotion.approval_sla_hours
        hours = np.where(hours > sla, sla + promotion.escalation_response_hours, hours)
    days = (
        hours / settings.business_hours_per_day
        + promotion.approval_handoff_draw * policy.approval_handoff_days
    )
    return float(days.max() if policy.approvals_in_parallel else days.sum())


def publication_day(policy: ArmPolicy, approved_day: float) -> int:
    """Day the promo price is sent to the stores: its scheduled day, once approved."""
    return max(math.ceil(approved_day), -policy.price_publication_days_before_launch)


def price_arrivals(promotion: Promotion, policy: ArmPolicy, approved_day: float) -> Floats:
    """Day each store-item's promo price reaches the shelf system (inf: never)."""
    scheduled = publication_day(policy, approved_day)
    late = promotion.price_late_draw < policy.late_price_store_share
    delay = np.ceil(policy.late_price_days * promotion.price_late_days_draw)
    arrival = scheduled + np.where(late, delay, 0.0)
    missing = promotion.price_missing_draw < policy.partial_publication_share
    return np.asarray(np.where(missing, np.inf, arrival))


def run_promotion(
    promotion: Promotion, policy: ArmPolicy, settings: SimulationSettings, policies: Policies
) -> PromotionResult:
    """Run one promotion from submission to the window's end under `policy`."""
    approved_day = -settings.planning_lead_days + approval_days(promotion, policy, settings)
    arrival = price_arrivals(promotion, policy, approved_day)
    stock = opening_stock(promotion)
    order_from_supplier(promotion, stock, policy, settings, policies.planning)
    allocate_to_stores(promotion, stock, policy, settings, policies.planning)
    launch_day = 0
    failed: tuple[str, ...] = ()
    if policy.launch_gates:
        scheduled = publication_day(policy, approved_day)
        launch_day, arrival, failed = _gate(
            promotion, stock, arrival, (approved_day, scheduled), settings, policies
        )
    stock.receive(-1)
    selling = sell_window(
        promotion,
        stock,
        launch_day=launch_day,
        price_arrival=arrival,
        monitoring=policy.live_monitoring,
        planning=policies.planning,
        settings=settings,
    )
    leftover = _leftover(promotion, stock, settings)
    # What a month of normal sales will not clear is marked down.
    weekly = promotion.baseline_weekly.sum(axis=1)
    cleared = np.maximum(leftover - settings.markdown_after_weeks * weekly, 0.0)
    markdown = float((cleared * promotion.regular_price).sum() * settings.markdown_depth)
    logistics = (
        stock.moved_units * policies.planning.allocation.transfer_cost_per_unit
        + stock.expedited_units * settings.expedite_cost_per_unit
    )
    return PromotionResult(
        code=promotion.code,
        demand_on_promotion_units=selling.demand_on_promotion_units,
        lost_value=selling.lost_value,
        stockout_days=selling.stockout_days,
        item_store_days=selling.item_store_days,
        leftover_units=float(leftover.sum()),
        markdown=markdown,
        margin=selling.revenue - selling.cost_of_goods - markdown - logistics,
        cycle_time_days=approved_day + settings.planning_lead_days,
        price_error_days=selling.price_error_days,
        launch_day=launch_day,
        gates_failed=failed,
    )


def _gate(
    promotion: Promotion,
    stock: Stock,
    arrival: Floats,
    timing: tuple[float, int],
    settings: SimulationSettings,
    policies: Policies,
) -> tuple[int, Floats, tuple[str, ...]]:
    """The last gate evaluation before launch: expedite short stock, hold until released.

    `timing` is (the day approvals completed, the day prices were sent).
    """
    approved_day, scheduled = timing
    day = -settings.gate_check_days_before_launch
    pending = sum(stock.store_receipts.values(), np.zeros_like(stock.store))
    check = check_gates(
        promotion,
        day=day,
        store_stock=stock.store + pending,
        approved=approved_day <= day,
        price_arrived=arrival <= day,
        policy=policies.gates,
    )
    if check.stock_failed:
        _expedite(promotion, stock, pending, settings.gate_expedite_share)
    if not check.release_failed:
        return 0, arrival, check.failed
    # Held: the publication check sees each price that missed its day and sends it again;
    # the gates pass, and the offer launches, once every approval and price is in.
    arrival = np.where(arrival > scheduled, scheduled + 1.0, arrival)
    ready = max(float(arrival.max()), float(math.ceil(approved_day)))
    return max(0, min(int(ready), promotion.days - 1)), arrival, check.failed


def _expedite(promotion: Promotion, stock: Stock, pending: Floats, rush_share: float) -> None:
    """Cover item-stores towards the forecast's P90: from the DC, then by premium freight
    for `rush_share` of what the DC lacks (the rest launches short, waived)."""
    short = np.maximum(np.ceil(promotion.forecast_p90 - stock.store - pending), 0.0)
    from_dc = share_out(short, np.maximum(stock.dc, 0.0), promotion.case_pack)
    stock.dc -= from_dc.sum(axis=1)
    rushed = np.maximum(short - from_dc, 0.0) * rush_share
    bought = np.floor(rushed * promotion.supplier_fill[:, None])
    stock.expedited_units += float(bought.sum())
    stock.ship_to_store(-1, from_dc + bought)


def _leftover(promotion: Promotion, stock: Stock, settings: SimulationSettings) -> Floats:
    """Units per item above normal cover once the window ends (late deliveries included)."""
    stock.receive(10**6)
    normal = settings.normal_cover_weeks * promotion.baseline_weekly
    at_stores = np.maximum(stock.store - normal, 0.0).sum(axis=1)
    at_dc = np.maximum(stock.dc - promotion.dc_opening, 0.0)
    return np.asarray(at_stores + at_dc)


def run_arm(
    world: World, policy: ArmPolicy, settings: SimulationSettings, policies: Policies
) -> dict[str, float]:
    """The arm's figures over the seed's calendar (`METRICS`, plus the demand it faced)."""
    results = [run_promotion(p, policy, settings, policies) for p in world.promotions]
    days = sum(r.item_store_days for r in results)
    return {
        "lost_sales": sum(r.lost_value for r in results),
        "stockout_rate": 100.0 * sum(r.stockout_days for r in results) / days,
        "leftover_units": sum(r.leftover_units for r in results),
        "markdown": sum(r.markdown for r in results),
        "margin": sum(r.margin for r in results),
        "cycle_time_days": float(np.mean([r.cycle_time_days for r in results])),
        "price_error_rate": 100.0 * sum(r.price_error_days for r in results) / days,
        "demand_on_promotion_units": sum(r.demand_on_promotion_units for r in results),
    }

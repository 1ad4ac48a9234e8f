"""Before launch: the promo order to the supplier and the push from the DC to the stores.

With pre-launch planning these are promoflow's own decisions: `propose_purchase_orders`
(the forecast's quantile from planning.yaml at the DC, pack rounding, supplier capacity)
and `allocate_dc_stock` (the allocation MIP on the forecast's distribution). Without it,
the business-as-usual rule: every store orders up to its baseline for the window plus
the share of the lift planners anticipate, and the DC buys the sum.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import timedelta

import numpy as np
import polars as pl

from promoflow.allocation.policy import PlanningPolicy
from promoflow.planning.allocation import allocate_dc_stock
from promoflow.planning.replenishment import propose_purchase_orders
from promoflow.simulation.assumptions import ArmPolicy, SimulationSettings
from promoflow.simulation.world import Floats, Promotion

Z_P10, Z_P90 = -1.2816, 1.2816
ALLOCATION_TIME_LIMIT_SECONDS = 5.0


@dataclass
class Stock:
    """Promo stock of one promotion: stores, DC and what is on its way, by day from launch."""

    store: Floats  # items x stores
    dc: Floats  # per item
    dc_receipts: dict[int, Floats] = field(default_factory=dict)
    store_receipts: dict[int, Floats] = field(default_factory=dict)
    moved_units: float = 0.0  # DC-to-store and store-to-store units (transfer cost)
    expedited_units: float = 0.0  # bought at the gate with premium freight

    def receive(self, day: int) -> None:
        """Put away everything due on or before `day`."""
        for due in sorted(d for d in self.dc_receipts if d <= day):
            self.dc += self.dc_receipts.pop(due)
        for due in sorted(d for d in self.store_receipts if d <= day):
            self.store += self.store_receipts.pop(due)

    def ship_to_store(self, day: int, units: Floats) -> None:
        """Book store deliveries arriving on `day` (units already taken from their source)."""
        self.store_receipts[day] = self.store_receipts.get(day, 0.0) + units
        self.moved_units += float(units.sum())


def opening_stock(promotion: Promotion) -> Stock:
    """Stock when the promotion is submitted: normal cover at the stores and the DC."""
    return Stock(store=promotion.store_opening.copy(), dc=promotion.dc_opening.copy())


def order_day(policy: ArmPolicy, settings: SimulationSettings) -> int:
    """Day (from launch) the promo order goes to the supplier; never before submission."""
    return -min(policy.supplier_order_days_before_launch, settings.planning_lead_days)


def order_from_supplier(
    promotion: Promotion,
    stock: Stock,
    policy: ArmPolicy,
    settings: SimulationSettings,
    planning: PlanningPolicy,
) -> Floats:
    """Place the promo order; book what the supplier delivers at the DC. Returns units ordered."""
    day = order_day(policy, settings)
    if policy.pre_launch_planning:
        ordered = _proposed_order(promotion, day, planning)
    else:
        ordered = _order_up_to_order(promotion, day, settings)
    delivered = np.floor(ordered * promotion.supplier_fill)
    arrivals: dict[int, Floats] = defaultdict(lambda: np.zeros(len(promotion.item_ids)))
    for item, lead in enumerate(promotion.supplier_lead_days):
        arrivals[day + int(lead)][item] += delivered[item]
    for due, units in arrivals.items():
        stock.dc_receipts[due] = stock.dc_receipts.get(due, 0.0) + units
    return ordered


def order_up_to_targets(promotion: Promotion, settings: SimulationSettings) -> Floats:
    """Business as usual: each store's window baseline plus the anticipated share of the lift."""
    lift = 1.0 + settings.bau_lift_anticipation * (promotion.lift - 1.0)
    weeks = promotion.days / 7.0
    return np.ceil(promotion.baseline_weekly * weeks * lift[:, None])


def _order_up_to_order(promotion: Promotion, day: int, settings: SimulationSettings) -> Floats:
    on_hand = promotion.dc_opening + promotion.store_opening.sum(axis=1)
    need = np.maximum(order_up_to_targets(promotion, settings).sum(axis=1) - on_hand, 0.0)
    packs = np.ceil(need / promotion.case_pack - 1e-9) * promotion.case_pack
    capacity = promotion.supplier_weekly_capacity * max(-day, 0) / 7.0
    return np.asarray(np.minimum(packs, capacity))


def _proposed_order(promotion: Promotion, day: int, planning: PlanningPolicy) -> Floats:
    settings = planning.replenishment
    mean = promotion.forecast_mean.sum(axis=1)
    # Store quantiles do not add up; the DC's window demand is the stores' sum, whose
    # spread is the root of the summed variances.
    spread = (promotion.forecast_p90 - promotion.forecast_p10) / (Z_P90 - Z_P10)
    sd = np.sqrt((spread**2).sum(axis=1))
    quantiles = {"p10": mean + Z_P10 * sd, "p50": mean, "p90": mean + Z_P90 * sd}
    target = np.maximum(quantiles[settings.quantile], 0.0)
    items = np.array(promotion.item_ids, dtype=np.int64)
    needs = pl.DataFrame(
        {
            "item_id": items,
            "supplier_id": promotion.supplier_index,
            "destination_id": np.zeros(items.size, dtype=np.int64),
            **{name: np.maximum(values, 0.0) for name, values in quantiles.items()},
            "safety_stock": settings.safety_stock_share * target,
            "on_hand": promotion.dc_opening + promotion.store_opening.sum(axis=1),
            "on_order_due": np.zeros(items.size),
            "case_pack": promotion.case_pack,
            "min_order_units": np.full(items.size, float(settings.min_order_units)),
        }
    )
    suppliers = pl.DataFrame(
        {
            "supplier_id": promotion.supplier_index,
            "lead_time_days": promotion.supplier_lead_days,
            "weekly_capacity_units": promotion.supplier_weekly_capacity,
        }
    ).unique("supplier_id", keep="first", maintain_order=True)
    plan = propose_purchase_orders(
        needs,
        suppliers,
        window_start=promotion.launch,
        today=promotion.launch + timedelta(days=day),
        quantile=settings.quantile,
    )
    ordered = dict(zip(plan.proposals["item_id"], plan.proposals["order_units"], strict=True))
    return np.array([float(ordered.get(int(i), 0.0)) for i in items])


def allocate_to_stores(
    promotion: Promotion,
    stock: Stock,
    policy: ArmPolicy,
    settings: SimulationSettings,
    planning: PlanningPolicy,
) -> None:
    """Push DC stock to the stores `allocation_days_before_launch` days ahead."""
    day = -settings.allocation_days_before_launch
    stock.receive(day)
    if policy.pre_launch_planning:
        units = _planned_allocation(promotion, stock, planning)
    else:
        units = _order_up_to_allocation(promotion, stock, settings)
    stock.dc -= units.sum(axis=1)
    stock.ship_to_store(day, units)
    stock.receive(day)


def _planned_allocation(promotion: Promotion, stock: Stock, planning: PlanningPolicy) -> Floats:
    items = np.array(promotion.item_ids, dtype=np.int64)
    stores = np.array(promotion.store_ids, dtype=np.int64)
    n_items, n_stores = items.size, stores.size
    settings = planning.allocation
    demand = pl.DataFrame(
        {
            "item_id": np.repeat(items, n_stores),
            "location_id": np.tile(stores, n_items),
            "promoted_units": promotion.forecast_mean.ravel(),
            "p10": promotion.forecast_p10.ravel(),
            "p90": promotion.forecast_p90.ravel(),
            "available": stock.store.ravel(),
        }
    )
    dc_stock = pl.DataFrame(
        {"item_id": items, "available": np.maximum(stock.dc, 0.0), "case_pack": promotion.case_pack}
    )
    store_frame = pl.DataFrame(
        {
            "location_id": stores,
            "capacity_units": promotion.store_capacity,
            # As the lifecycle's allocation step weighs it: cost per unit of filled demand.
            "transfer_cost_per_unit": np.full(
                n_stores, settings.transfer_cost_per_unit / settings.filled_unit_value
            ),
        }
    )
    plan = allocate_dc_stock(
        demand, dc_stock, store_frame, time_limit_seconds=ALLOCATION_TIME_LIMIT_SECONDS
    )
    return np.asarray(plan.lines["units"].to_numpy().reshape(n_items, n_stores), dtype=np.float64)


def _order_up_to_allocation(
    promotion: Promotion, stock: Stock, settings: SimulationSettings
) -> Floats:
    need = np.maximum(order_up_to_targets(promotion, settings) - stock.store, 0.0)
    return share_out(need, np.maximum(stock.dc, 0.0), promotion.case_pack)


def share_out(need: Floats, available: Floats, case_pack: Floats) -> Floats:
    """Whole packs of each item's `need` per store, pro rata when the source is short."""
    total = need.sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        scale = np.where(total > available, available / total, 1.0)
    pack = case_pack[:, None]
    wanted = need * scale[:, None] / pack
    # Stores order whole packs, rounded up, unless that overdraws the source.
    up = np.ceil(wanted - 1e-9) * pack
    down = np.floor(wanted + 1e-9) * pack
    fits = up.sum(axis=1) <= available + 1e-9
    return np.asarray(np.where(fits[:, None], up, down))

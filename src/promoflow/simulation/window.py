"""The promotion's window, day by day: shoppers buy what is on the shelf at the shelf price.

A store sells at the promo price from the day its price has arrived; before that the
offer is advertised but the shelf charges the regular price, and shoppers buy their
regular quantity (a price error). Both arms top stores up from the DC at the start of
a second week, as the ERP's weekly replenishment does. With live monitoring,
promoflow's sell-through rule (`allocation.sell_through.find_anomalies`) runs on each
day's sales and lines selling above the forecast's pace get stock for the rest of the
window, from the DC first, then from stores the rule names as holding spare.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from promoflow.allocation.policy import PlanningPolicy
from promoflow.allocation.sell_through import ABOVE, TRANSFER, find_anomalies
from promoflow.simulation.assumptions import SimulationSettings
from promoflow.simulation.prelaunch import Stock, share_out
from promoflow.simulation.world import Floats, Promotion

WEEKLY_REPLENISHMENT_DAY = 7


@dataclass(frozen=True)
class Selling:
    """What happened at the shelf over the window."""

    demand_on_promotion_units: float  # shoppers' wants at the promo price, every day
    sold_units: float
    lost_units: float
    lost_value: float
    revenue: float  # at the shelf price, plus vendor funding
    cost_of_goods: float
    stockout_days: int
    item_store_days: int
    price_error_days: int


def sell_window(
    promotion: Promotion,
    stock: Stock,
    *,
    launch_day: int,
    price_arrival: Floats,
    monitoring: bool,
    planning: PlanningPolicy,
    settings: SimulationSettings,
) -> Selling:
    """Run the window's days; `stock` is left as it ends."""
    launch_level = stock.store.copy()
    promo_price = promotion.promo_price[:, None]
    regular_price = promotion.regular_price[:, None]
    sold_since_launch = np.zeros_like(stock.store)
    at_launch = stock.store.copy()
    flagged: set[tuple[int, int]] = set()
    sold = lost = lost_value = revenue = cost = 0.0
    stockout_days = price_errors = 0
    for day in range(promotion.days):
        stock.receive(day)
        if day == WEEKLY_REPLENISHMENT_DAY:
            top_up = share_out(
                np.maximum(launch_level - stock.store, 0.0),
                np.maximum(stock.dc, 0.0),
                promotion.case_pack,
            )
            stock.dc -= top_up.sum(axis=1)
            stock.ship_to_store(day, top_up)
            stock.receive(day)
        if day == launch_day:
            at_launch = stock.store.copy()
        offered = day >= launch_day
        on_price = offered & (price_arrival <= day)
        demand = np.where(
            on_price,
            promotion.demand_on_promotion[:, :, day],
            promotion.demand_regular[:, :, day],
        ).astype(np.float64)
        selling = np.minimum(demand, np.maximum(stock.store, 0.0))
        short = demand - selling
        price = np.where(on_price, promo_price, regular_price)
        # The supplier refunds its share of the discount on every unit sold on promotion.
        funding = np.where(
            on_price, settings.vendor_funding_share * (regular_price - promo_price), 0.0
        )
        stock.store -= selling
        sold += float(selling.sum())
        lost += float(short.sum())
        lost_value += float((short * price).sum())
        revenue += float((selling * (price + funding)).sum())
        cost += float((selling * promotion.unit_cost[:, None]).sum())
        stockout_days += int((short > 0).sum())
        if offered:
            price_errors += int((~on_price).sum())
            sold_since_launch += selling
            if monitoring:
                _monitor(
                    promotion,
                    stock,
                    (day, launch_day),
                    sold_since_launch,
                    at_launch,
                    flagged,
                    planning,
                    settings,
                )
    return Selling(
        demand_on_promotion_units=float(promotion.demand_on_promotion.sum()),
        sold_units=sold,
        lost_units=lost,
        lost_value=lost_value,
        revenue=revenue,
        cost_of_goods=cost,
        stockout_days=stockout_days,
        item_store_days=int(promotion.demand_on_promotion.size),
        price_error_days=price_errors,
    )


def _monitor(
    promotion: Promotion,
    stock: Stock,
    days: tuple[int, int],
    sold: Floats,
    at_launch: Floats,
    flagged: set[tuple[int, int]],
    planning: PlanningPolicy,
    settings: SimulationSettings,
) -> None:
    """The sell-through check after a day's sales; stock for new lines above pace.

    `days` is (today, the launch day), counted from the planned launch.
    """
    day, launch_day = days
    rules = planning.sell_through
    window = promotion.days - launch_day
    share = (day + 1 - launch_day) / window
    if share < rules.min_elapsed_share or share >= 1.0:
        return
    # A held launch shortens the window: the forecast shrinks with it.
    scale = window / promotion.days
    forecast = promotion.forecast_mean * scale
    items = np.array(promotion.item_ids, dtype=np.int64)
    stores = np.array(promotion.store_ids, dtype=np.int64)
    key = {
        "item_id": np.repeat(items, stores.size),
        "location_id": np.tile(stores, items.size),
    }
    anomalies = find_anomalies(
        pl.DataFrame(
            {
                **key,
                "promoted_units": forecast.ravel(),
                "p10": (promotion.forecast_p10 * scale).ravel(),
                "p90": (promotion.forecast_p90 * scale).ravel(),
            }
        ),
        pl.DataFrame({**key, "units": sold.ravel()}),
        pl.DataFrame({**key, "available": at_launch.ravel()}),
        share=share,
        settings=rules,
    ).filter(pl.col("direction") == ABOVE)
    row_of = {int(i): n for n, i in enumerate(items)}
    col_of = {int(s): n for n, s in enumerate(stores)}
    pending = sum(stock.store_receipts.values(), np.zeros_like(stock.store))
    arrive = day + settings.monitoring_response_days
    for line in anomalies.iter_rows(named=True):
        i, s = row_of[line["item_id"]], col_of[line["location_id"]]
        if (i, s) in flagged:
            continue
        flagged.add((i, s))
        rest = (1.0 - share) * max(forecast[i, s], sold[i, s] / share)
        need = float(np.ceil(max(rest - stock.store[i, s] - pending[i, s], 0.0)))
        from_dc = min(need, max(float(stock.dc[i]), 0.0))
        stock.dc[i] -= from_dc
        units = from_dc
        if line["suggested_action"] == TRANSFER and need > units:
            for source in line["transfer_from"] or []:
                j = col_of[int(source)]
                spare = stock.store[i, j] - (1.0 - share) * forecast[i, j]
                take = float(np.floor(min(max(spare, 0.0), need - units)))
                stock.store[i, j] -= take
                units += take
                if units >= need:
                    break
        if units > 0:
            delivery = np.zeros_like(stock.store)
            delivery[i, s] = units
            stock.ship_to_store(arrive, delivery)

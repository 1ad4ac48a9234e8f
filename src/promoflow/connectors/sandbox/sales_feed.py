"""Sandbox point-of-sale feed: daily sales simulated from the scenario's demand model.

Sales follow the same model that generated the history: each pair's base rate,
its category's seasonality and price elasticity, and the promo price the sandbox
POS (or web shop) has active that day. The feed sees prices only, so display
and feature support do not show in it. Sales over the requested window never
exceed the stock the sandbox WMS holds for the pair (on hand plus in transit).
Noise is drawn per item x location x week from the scenario's seed, so the same
request always returns the same figures.
"""

from __future__ import annotations

import hashlib
import zlib
from collections import defaultdict
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

import numpy as np
from sqlalchemy.orm import Session

from promoflow.connectors.ports import SalesRecord
from promoflow.connectors.sandbox import repository
from promoflow.connectors.sandbox.client import Rejected, SandboxSystem
from promoflow.scenario import demand
from promoflow.scenario import repository as scenario_repository

# Share of a week's sales by weekday, Monday first: the weekend shop is bigger.
DAY_SHARE = np.array([0.12, 0.12, 0.13, 0.14, 0.16, 0.19, 0.14])
MAX_DAYS = 400
CENT = Decimal("0.01")
PromoPrices = dict[tuple[str, str], list[tuple[date, date, float]]]


class SandboxSalesFeed(SandboxSystem):
    """Point-of-sale actuals for a scope of SKUs, locations and days."""

    system = "sandbox-pos-sales"
    reference_prefix = "SALES"

    def sales(
        self, skus: list[str], location_codes: list[str], start: date, end: date
    ) -> list[SalesRecord]:
        """Point-of-sale actuals for the scope and dates (one record per item x store x day)."""
        text = ",".join(sorted(skus)) + "|" + ",".join(sorted(location_codes))
        key = f"sales-{hashlib.sha256(text.encode()).hexdigest()[:16]}-{start}-{end}"

        def apply(session: Session) -> list[SalesRecord]:
            if end < start or (end - start).days >= MAX_DAYS:
                raise Rejected(f"window {start}..{end} must run forward, at most {MAX_DAYS} days")
            records = simulate_sales(session, skus, location_codes, start, end)
            self.record(session, "sales", key, "applied", f"{len(records)} records")
            return records

        return self.call("sales", key, apply)


def _promo_prices(
    session: Session, skus: list[str], systems: dict[str, str], start: date, end: date
) -> PromoPrices:
    """Active promo prices per (sku, location), from the system that prices that location."""
    prices: PromoPrices = defaultdict(list)
    windows = repository.price_windows(session, skus, list(systems), start, end)
    for system, sku, code, first, last, price in windows:
        if systems[code] == system:
            prices[(sku, code)].append((first, last, float(price)))
    return prices


def _price_on(windows: list[tuple[date, date, float]], day: date, regular: float) -> float:
    price = regular
    for first, last, promo in windows:  # later activations override earlier ones
        if first <= day <= last:
            price = promo
    return price


def simulate_sales(
    session: Session, skus: list[str], location_codes: list[str], start: date, end: date
) -> list[SalesRecord]:
    """Daily sales for ranged pairs in scope (see the module docstring for the model)."""
    items = {
        sku: (item_id, category, float(price))
        for sku, item_id, category, price in repository.items_for_sales(session, skus)
    }
    found = repository.locations_by_code(session, location_codes)
    locations = {location_id: code for location_id, code, _ in found}
    # The web shop's sales follow the web shop's prices; stores follow the POS.
    systems = {
        code: "sandbox-ecommerce" if kind == "ecommerce" else "sandbox-pos"
        for _, code, kind in found
    }
    if not items or not locations:
        return []
    params = scenario_repository.load_demand_params(
        session, [v[0] for v in items.values()], list(locations)
    )
    profiles = scenario_repository.load_category_demand(session)
    run = scenario_repository.latest_run(session)
    seed = run.seed if run is not None else 0
    prices = _promo_prices(session, list(items), systems, start, end)
    stock = repository.sellable_stock(session, list(items), list(locations.values()))
    sku_of = {v[0]: k for k, v in items.items()}
    days = [start + timedelta(days=n) for n in range(int((end - start).days) + 1)]
    mondays = sorted({day - timedelta(days=day.weekday()) for day in days})
    weeks = np.array(mondays, dtype="datetime64[D]")
    seasons = {
        name: dict(zip(mondays, demand.seasonal_index(weeks, profile), strict=True))
        for name, profile in profiles.items()
    }
    records: list[SalesRecord] = []
    for item_id, location_id, category, base_rate, elasticity in params.sort(
        ["item_id", "location_id"]
    ).iter_rows():
        sku, code = sku_of[item_id], locations[location_id]
        regular = items[sku][2]
        windows = prices.get((sku, code), [])
        daily = [_price_on(windows, day, regular) for day in days]
        units = _daily_units(
            seed, sku, code, days, daily, regular, base_rate, elasticity, seasons[category]
        )
        # Shelves empty: once the window's sales reach the stock, nothing more sells.
        sold_before = np.concatenate([[0.0], np.cumsum(units)[:-1]])
        units = np.clip(stock.get((sku, code), 0.0) - sold_before, 0.0, units)
        for day, price, sold in zip(days, daily, units, strict=True):
            revenue = (Decimal(str(price)) * Decimal(int(sold))).quantize(CENT, ROUND_HALF_UP)
            records.append(SalesRecord(sku, code, day, float(sold), revenue))
    return records


def _daily_units(
    seed: int,
    sku: str,
    code: str,
    days: list[date],
    daily_price: list[float],
    regular: float,
    base_rate: float,
    elasticity: float,
    season: dict[date, float],
) -> np.ndarray:
    """Units per day; noise is drawn for whole weeks so any window sees the same days."""
    depth = 1.0 - np.array(daily_price) / regular
    on_promo = depth > 0.005
    lift = demand.promotion_lift(
        depth,
        np.where(on_promo, 0, -1),
        np.zeros(len(days), bool),
        np.zeros(len(days), bool),
        np.full(len(days), elasticity),
    )
    units = np.zeros(len(days))
    by_week: dict[date, list[int]] = defaultdict(list)
    for index, day in enumerate(days):
        by_week[day - timedelta(days=day.weekday())].append(index)
    sku_hash, code_hash = zlib.crc32(sku.encode()), zlib.crc32(code.encode())
    for monday, indices in by_week.items():
        rng = np.random.default_rng([seed, sku_hash, code_hash, monday.toordinal()])
        week_lift = np.ones(7)
        week_lift[[days[i].weekday() for i in indices]] = lift[indices]
        drawn = demand.draw_demand(rng, base_rate * season[monday] * DAY_SHARE * week_lift)
        units[indices] = drawn[[days[i].weekday() for i in indices]]
    return units

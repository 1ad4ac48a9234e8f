"""Historical promotion events: which items of a category were promoted, where, when, how."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import numpy as np
import numpy.typing as npt

from promoflow.scenario.master import stage_rng

STAGE_EVENTS = 20
MECHANIC_WEIGHTS = {
    "percent_off": 0.40,
    "amount_off": 0.15,
    "fixed_price": 0.15,
    "multi_buy": 0.20,
    "bundle": 0.10,
}
PERCENTS = np.array([10, 15, 20, 25, 30, 33, 40, 50])
PERCENT_WEIGHTS = np.array([0.12, 0.14, 0.2, 0.2, 0.14, 0.08, 0.08, 0.04])
MULTI_BUYS = ((2, 1), (1, 1), (3, 1))  # (buy, get free): 3 for 2, BOGOF, 4 for 3
EVENT_WEEKS = np.array([1, 2, 3, 4])
EVENT_WEEK_WEIGHTS = np.array([0.2, 0.45, 0.2, 0.15])


@dataclass(frozen=True)
class HistoricalEvent:
    """One past promotion event of one category."""

    code: str
    name: str
    category_index: int
    category: str
    region: str | None  # None = every store and the online node
    mechanic: str
    nominal_depth: float
    display: bool
    feature: bool
    start_index: int  # first week, index into the history calendar
    weeks: int
    item_index: npt.NDArray[np.int64]  # global item indices
    promo_price: npt.NDArray[np.float64]  # per item in item_index
    terms: dict[str, Any]

    def row(self, calendar: list[date]) -> dict[str, Any]:
        """The event as a `scenario_promotion_events` row."""
        return {
            "code": self.code,
            "name": self.name,
            "category": self.category,
            "region": self.region,
            "mechanic": self.mechanic,
            "nominal_depth": self.nominal_depth,
            "display": self.display,
            "feature": self.feature,
            "start_week": calendar[self.start_index],
            "end_week": calendar[self.start_index + self.weeks - 1],
            "item_count": len(self.item_index),
            "terms": self.terms,
        }


def plan_category_events(
    *,
    seed: int,
    category_index: int,
    category: str,
    eligible_items: npt.NDArray[np.int64],
    regular_price: npt.NDArray[np.float64],
    regions: list[str],
    calendar: list[date],
) -> list[HistoricalEvent]:
    """Non-overlapping events through the history, with a quiet week after each."""
    rng = stage_rng(seed, STAGE_EVENTS, category_index)
    events: list[HistoricalEvent] = []
    if len(eligible_items) == 0:
        return events
    week = int(rng.integers(0, 4))
    while week < len(calendar):
        length = min(int(rng.choice(EVENT_WEEKS, p=EVENT_WEEK_WEIGHTS)), len(calendar) - week)
        share = rng.uniform(0.3, 0.6)
        count = max(1, round(share * len(eligible_items)))
        items = np.sort(rng.choice(eligible_items, size=count, replace=False))
        region = None if rng.random() < 0.5 else regions[int(rng.integers(0, len(regions)))]
        mechanic = str(rng.choice(list(MECHANIC_WEIGHTS), p=list(MECHANIC_WEIGHTS.values())))
        prices, depth, terms, label = _terms(rng, mechanic, regular_price[items])
        code = f"HIST-{category_index + 1:02d}-{len(events) + 1:03d}"
        where = region or "national"
        events.append(
            HistoricalEvent(
                code=code,
                name=f"{category} {label}, {where}, w/c {calendar[week]:%d %b %Y}",
                category_index=category_index,
                category=category,
                region=region,
                mechanic=mechanic,
                nominal_depth=round(depth, 4),
                display=bool(rng.random() < 0.3),
                feature=bool(rng.random() < 0.35),
                start_index=week,
                weeks=length,
                item_index=items,
                promo_price=prices,
                terms=terms,
            )
        )
        # At least one clean week after each event, where the post-promotion dip shows.
        week += length + 1 + int(rng.geometric(0.5))
    return events


def _charm_down(raw: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    # A fixed promotional price ends in 9 and never rounds up: 2.43 -> 2.39.
    return np.asarray(np.maximum(0.09, np.round(np.floor(raw * 10) / 10 - 0.01, 2)))


def _terms(
    rng: np.random.Generator, mechanic: str, regular: npt.NDArray[np.float64]
) -> tuple[npt.NDArray[np.float64], float, dict[str, Any], str]:
    """Per-item promo prices, the nominal depth, the terms and a shopper-facing label."""
    if mechanic == "percent_off":
        percent = int(rng.choice(PERCENTS, p=PERCENT_WEIGHTS))
        prices = np.round(regular * (100 - percent) / 100, 2)
        return prices, percent / 100, {"discount_percent": percent}, f"{percent}% off"
    if mechanic == "amount_off":
        fraction = float(rng.uniform(0.1, 0.3))
        amounts = np.maximum(0.1, np.round(regular * fraction, 1))
        return np.round(regular - amounts, 2), fraction, {"amount_fraction": fraction}, "money off"
    if mechanic == "fixed_price":
        fraction = float(rng.uniform(0.15, 0.35))
        prices = _charm_down(regular * (1 - fraction))
        return prices, fraction, {"target_fraction_off": fraction}, "price drop"
    if mechanic == "multi_buy":
        buy, free = MULTI_BUYS[int(rng.choice(3, p=[0.5, 0.25, 0.25]))]
        depth = free / (buy + free)
        label = "buy one get one free" if buy == 1 else f"{buy + free} for {buy}"
        terms = {"buy_quantity": buy, "get_quantity": free}
        return np.round(regular * buy / (buy + free), 2), depth, terms, label
    fraction = float(rng.uniform(0.15, 0.25))
    prices = np.round(regular * (1 - fraction), 2)
    return prices, fraction, {"bundle_fraction_off": fraction}, "bundle deal"


def history_calendar(today: date, weeks: int) -> list[date]:
    """Monday dates of the `weeks` complete weeks before the week containing `today`."""
    this_monday = today - timedelta(days=today.weekday())
    last = this_monday - timedelta(days=7)
    return [last - timedelta(days=7 * (weeks - 1 - n)) for n in range(weeks)]

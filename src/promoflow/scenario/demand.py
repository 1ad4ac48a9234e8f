"""The demand model behind the scenario: what shoppers would buy, before stock limits.

Weekly demand of item i at location l in week w is

    base_rate[i, l] x season[category, w] x promotion_lift x sibling_factor x dip_factor

with gamma-Poisson (negative binomial) noise, then censored by the stock on the
shelf. The same functions generate the history and answer "what would this
planned promotion sell?" (`expected_demand`), so ground truth and simulation agree.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import numpy as np
import numpy.typing as npt
import polars as pl

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

MECHANICS = ("percent_off", "amount_off", "fixed_price", "multi_buy", "bundle")
# Beyond the price cut itself: a "3 for 2" moves more units than the same depth
# as a percentage, a bundle less (the shopper must want every part of it).
MECHANIC_LIFT = np.array([1.00, 1.05, 1.10, 1.15, 0.90])
DISPLAY_LIFT = 1.35
FEATURE_LIFT = 1.25
MAX_LIFT = 12.0
MAX_DIP = 0.45
NEGATIVE_BINOMIAL_SHAPE = 8.0
# Planners order ahead for a promotion but under-call its lift; the gap is
# where promotional stockouts come from.
PROMOTION_ANTICIPATION = 0.6
SUPPLY_SHORTFALL_RATE = 0.04


@dataclass(frozen=True)
class CategoryDemand:
    """Demand behaviour shared by the items of one category."""

    category: str
    elasticity: float
    summer_amplitude: float
    holiday_amplitude: float
    wave_sin: float = 0.0
    wave_cos: float = 0.0
    cannibalisation: float = 0.1
    post_promotion_dip: float = 0.15


@dataclass(frozen=True)
class PlannedPromotion:
    """A promotion to evaluate: which items, where, which weeks, and how it is run."""

    item_ids: tuple[int, ...]
    location_ids: tuple[int, ...]
    weeks: tuple[date, ...]
    mechanic: str
    depth: float
    display: bool = False
    feature: bool = False


def mechanic_code(mechanic: str) -> int:
    """Index of a mechanic in MECHANICS; names the value when it is unknown."""
    if mechanic not in MECHANICS:
        raise ValueError(f"mechanic={mechanic!r}: expected one of {', '.join(MECHANICS)}")
    return MECHANICS.index(mechanic)


def _day_of_year(days: npt.NDArray[Any]) -> FloatArray:
    years = days.astype("datetime64[Y]")
    return np.asarray((days - years).astype(np.int64), dtype=np.float64)


def _wrapped_distance(day_of_year: FloatArray, centre: float) -> FloatArray:
    return np.asarray((day_of_year - centre + 182.5) % 365.25 - 182.5, dtype=np.float64)


def _log_season(day_of_year: FloatArray, profile: CategoryDemand) -> FloatArray:
    angle = 2 * np.pi * day_of_year / 365.25
    summer = profile.summer_amplitude * np.cos(angle - 2 * np.pi * 196 / 365.25)
    wave = profile.wave_sin * np.sin(angle) + profile.wave_cos * np.cos(angle)
    # Christmas dominates; the Black Friday weekend adds a short, sharp peak.
    christmas = np.exp(-0.5 * (_wrapped_distance(day_of_year, 354) / 9.0) ** 2)
    black_friday = 0.5 * np.exp(-0.5 * (_wrapped_distance(day_of_year, 332) / 4.0) ** 2)
    return np.asarray(
        summer + wave + profile.holiday_amplitude * (christmas + black_friday), dtype=np.float64
    )


def seasonal_index(weeks: npt.NDArray[Any], profile: CategoryDemand) -> FloatArray:
    """Multiplier per week (Monday dates) whose average over a year is 1."""
    midweek = weeks.astype("datetime64[D]") + np.timedelta64(3, "D")
    reference = np.arange(365, dtype=np.float64)
    norm = float(np.mean(np.exp(_log_season(reference, profile))))
    return np.asarray(np.exp(_log_season(_day_of_year(midweek), profile)) / norm)


def promotion_lift(
    depth: FloatArray,
    mechanic: npt.NDArray[np.int8] | IntArray,
    display: BoolArray,
    feature: BoolArray,
    elasticity: FloatArray,
) -> FloatArray:
    """Demand multiplier of a promotion; 1 where `mechanic` < 0 (not on promotion)."""
    on_promo = mechanic >= 0
    price_effect = np.power(1.0 - np.clip(depth, 0.0, 0.9), elasticity)
    lift = (
        price_effect
        * MECHANIC_LIFT[np.where(on_promo, mechanic, 0)]
        * np.where(display, DISPLAY_LIFT, 1.0)
        * np.where(feature, FEATURE_LIFT, 1.0)
    )
    return np.asarray(np.where(on_promo, np.minimum(lift, MAX_LIFT), 1.0))


def sibling_factor(cannibalisation: float, event_lift: float) -> float:
    """Share of demand a non-promoted item keeps while a sibling in its category is promoted."""
    return 1.0 - cannibalisation * min(1.0, max(0.0, event_lift - 1.0) / 2.0)


def dip_factor(post_promotion_dip: FloatArray | float, lift: FloatArray) -> FloatArray:
    """Share of demand kept the week after a promotion (shoppers stocked up)."""
    return np.asarray(1.0 - np.minimum(MAX_DIP, post_promotion_dip * np.maximum(lift - 1.0, 0)))


def draw_demand(rng: np.random.Generator, expected: FloatArray) -> IntArray:
    """Negative-binomial units around `expected` (gamma-Poisson mixture)."""
    shape = NEGATIVE_BINOMIAL_SHAPE
    intensity = expected * rng.gamma(shape, 1.0 / shape, size=expected.shape)
    return np.asarray(rng.poisson(intensity), dtype=np.int64)


def shelf_stock(
    rng: np.random.Generator,
    expected_baseline: FloatArray,
    lift: FloatArray,
    cover_weeks: FloatArray,
    shelf_minimum: FloatArray,
) -> IntArray:
    """Units available in a week under an order-up-to policy that under-calls promotions."""
    planned = expected_baseline * (1.0 + PROMOTION_ANTICIPATION * (lift - 1.0)) * cover_weeks
    available = np.maximum(shelf_minimum, np.ceil(planned))
    # A late or short supplier delivery leaves only part of the planned stock.
    short = rng.random(expected_baseline.shape) < SUPPLY_SHORTFALL_RATE
    shortfall = rng.uniform(0.3, 0.9, size=expected_baseline.shape)
    return np.asarray(np.floor(np.where(short, available * shortfall, available)), dtype=np.int64)


def censor(demand: IntArray, available: IntArray) -> tuple[IntArray, BoolArray]:
    """Units sold (never more than on the shelf) and whether demand went unserved."""
    return np.minimum(demand, available), demand > available


def expected_demand(
    params: pl.DataFrame,
    categories: Mapping[str, CategoryDemand],
    promotion: PlannedPromotion,
) -> pl.DataFrame:
    """Expected units per item x location x week with and without `promotion`, no noise.

    `params` has columns item_id, location_id, category, base_rate, elasticity (see
    scenario.repository.load_demand_params). Rows cover the promotion's weeks
    (phase "promotion") and the week after (phase "post_promotion", with the dip).
    Pairs missing from `params` (not ranged) are left out.
    """
    code = mechanic_code(promotion.mechanic)
    scope = params.filter(
        pl.col("item_id").is_in(list(promotion.item_ids))
        & pl.col("location_id").is_in(list(promotion.location_ids))
    )
    weeks = sorted(promotion.weeks)
    if scope.is_empty() or not weeks:
        return _empty_expected()
    all_weeks = np.array([*weeks, weeks[-1] + timedelta(days=7)], dtype="datetime64[D]")
    is_promo_week = np.arange(len(all_weeks)) < len(weeks)
    frames = []
    for (category,), group in scope.group_by(["category"], maintain_order=True):
        profile = categories[str(category)]
        season = seasonal_index(all_weeks, profile)
        base = group["base_rate"].to_numpy()[:, None] * season[None, :]
        elasticity = group["elasticity"].to_numpy()[:, None]
        shape = base.shape
        lift = promotion_lift(
            np.full(shape, promotion.depth),
            np.full(shape, code),
            np.full(shape, promotion.display),
            np.full(shape, promotion.feature),
            elasticity * np.ones(shape),
        )
        factor = np.where(
            is_promo_week[None, :], lift, dip_factor(profile.post_promotion_dip, lift)
        )
        frames.append(
            pl.DataFrame(
                {
                    "item_id": np.repeat(group["item_id"].to_numpy(), len(all_weeks)),
                    "location_id": np.repeat(group["location_id"].to_numpy(), len(all_weeks)),
                    "week": np.tile(all_weeks, len(group)),
                    "phase": np.tile(
                        np.where(is_promo_week, "promotion", "post_promotion"), len(group)
                    ),
                    "baseline_units": base.ravel(),
                    "expected_units": (base * factor).ravel(),
                    "lift": factor.ravel(),
                }
            )
        )
    return pl.concat(frames).with_columns(pl.col("week").cast(pl.Date))


def _empty_expected() -> pl.DataFrame:
    return pl.DataFrame(
        schema={
            "item_id": pl.Int64,
            "location_id": pl.Int64,
            "week": pl.Date,
            "phase": pl.Utf8,
            "baseline_units": pl.Float64,
            "expected_units": pl.Float64,
            "lift": pl.Float64,
        }
    )

"""Two years of weekly sales, simulated one category at a time.

Categories are independent in the demand model (cannibalisation stays inside a
category), so simulating them one by one bounds memory and lets the CLI show
progress. Each category draws from its own random stream, so the result does
not depend on the order.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from datetime import date

import numpy as np
import numpy.typing as npt
import polars as pl

from promoflow.scenario import demand
from promoflow.scenario.demand import CategoryDemand
from promoflow.scenario.events import HistoricalEvent
from promoflow.scenario.master import stage_rng

STAGE_HISTORY = 30
# Its own stream, so keeping the truth never moves a figure the history draws.
STAGE_COUNTERFACTUAL = 31


@dataclass(frozen=True)
class CategoryPairs:
    """Ranged item x selling-location pairs of one category, sorted by item then location."""

    item_index: npt.NDArray[np.int64]
    location_index: npt.NDArray[np.int64]
    base_rate: npt.NDArray[np.float64]
    elasticity: npt.NDArray[np.float64]


@dataclass(frozen=True)
class HistoryInputs:
    """What every category's simulation shares."""

    seed: int
    calendar: list[date]
    item_ids: npt.NDArray[np.int64]
    regular_price: npt.NDArray[np.float64]
    location_ids: npt.NDArray[np.int64]  # selling locations, by location index
    location_region: npt.NDArray[np.str_]  # "Online" for the web shop


@dataclass(frozen=True)
class CategoryHistory:
    """Rows for `weekly_sales` and `scenario_promotion_truth` of one category."""

    sales: pl.DataFrame
    truth: pl.DataFrame


@dataclass
class PromotionGrid:
    """Promotion state per pair x week, filled event by event."""

    depth: npt.NDArray[np.float64]
    mechanic: npt.NDArray[np.int8]
    display: npt.NDArray[np.bool_]
    feature: npt.NDArray[np.bool_]
    event: npt.NDArray[np.int64]
    price: npt.NDArray[np.float64]
    sibling: npt.NDArray[np.float64]
    dip_lift: npt.NDArray[np.float64]  # lift of the promotion the week before, where it ended

    @classmethod
    def empty(cls, pairs: int, weeks: int, regular: npt.NDArray[np.float64]) -> PromotionGrid:
        """No promotion anywhere: regular prices, no halo effects."""
        shape = (pairs, weeks)
        return cls(
            depth=np.zeros(shape),
            mechanic=np.full(shape, -1, dtype=np.int8),
            display=np.zeros(shape, dtype=bool),
            feature=np.zeros(shape, dtype=bool),
            event=np.full(shape, -1, dtype=np.int64),
            price=np.repeat(regular[:, None], weeks, axis=1),
            sibling=np.ones(shape),
            dip_lift=np.ones(shape),
        )


def _apply_events(
    grid: PromotionGrid,
    pairs: CategoryPairs,
    events: list[HistoricalEvent],
    event_ids: dict[str, int],
    inputs: HistoryInputs,
    profile: CategoryDemand,
) -> None:
    n_items = len(inputs.item_ids)
    weeks = len(inputs.calendar)
    for event in events:
        in_event = np.zeros(n_items, dtype=bool)
        in_event[event.item_index] = True
        price_of = np.zeros(n_items)
        price_of[event.item_index] = event.promo_price
        at_location = (
            np.ones(len(inputs.location_ids), dtype=bool)
            if event.region is None
            else inputs.location_region == event.region
        )
        here = at_location[pairs.location_index]
        promoted = np.flatnonzero(here & in_event[pairs.item_index])
        siblings = np.flatnonzero(here & ~in_event[pairs.item_index])
        span = slice(event.start_index, event.start_index + event.weeks)
        regular = inputs.regular_price[pairs.item_index[promoted]]
        depth = 1.0 - price_of[pairs.item_index[promoted]] / regular
        code = demand.mechanic_code(event.mechanic)
        lift = demand.promotion_lift(
            depth,
            np.full(len(promoted), code),
            np.full(len(promoted), event.display),
            np.full(len(promoted), event.feature),
            pairs.elasticity[promoted],
        )
        grid.depth[promoted, span] = depth[:, None]
        grid.mechanic[promoted, span] = code
        grid.display[promoted, span] = event.display
        grid.feature[promoted, span] = event.feature
        grid.event[promoted, span] = event_ids[event.code]
        grid.price[promoted, span] = price_of[pairs.item_index[promoted]][:, None]
        event_lift = float(np.mean(lift)) if len(lift) else 1.0
        grid.sibling[siblings, span] = demand.sibling_factor(profile.cannibalisation, event_lift)
        after = event.start_index + event.weeks
        if after < weeks:
            grid.dip_lift[promoted, after] = lift


def simulate_category(
    inputs: HistoryInputs,
    category_index: int,
    profile: CategoryDemand,
    pairs: CategoryPairs,
    events: list[HistoricalEvent],
    event_ids: dict[str, int],
) -> CategoryHistory:
    """Weekly sales (censored by shelf stock) and promotion ground truth for one category."""
    rng = stage_rng(inputs.seed, STAGE_HISTORY, category_index)
    weeks = np.array(inputs.calendar, dtype="datetime64[D]")
    n_pairs, n_weeks = len(pairs.item_index), len(weeks)
    grid = PromotionGrid.empty(n_pairs, n_weeks, inputs.regular_price[pairs.item_index])
    _apply_events(grid, pairs, events, event_ids, inputs, profile)

    baseline = pairs.base_rate[:, None] * demand.seasonal_index(weeks, profile)[None, :]
    lift = demand.promotion_lift(
        grid.depth, grid.mechanic, grid.display, grid.feature, pairs.elasticity[:, None]
    )
    dip = demand.dip_factor(profile.post_promotion_dip, grid.dip_lift)
    expected = baseline * lift * grid.sibling * dip
    wanted = demand.draw_demand(rng, expected)
    cover = rng.uniform(1.6, 2.6, size=(n_pairs, 1))
    shelf_minimum = rng.integers(2, 6, size=(n_pairs, 1)).astype(np.float64)
    # The same supplier shortfalls on the stock that would have been ordered without
    # the promotion: replay the stream from here with a copy of its state.
    replay = copy.deepcopy(rng)
    available = demand.shelf_stock(rng, baseline, lift, cover, shelf_minimum)
    sold, stockout = demand.censor(wanted, available)
    available_without = demand.shelf_stock(
        replay, baseline, np.ones_like(lift), cover, shelf_minimum
    )

    item_ids = inputs.item_ids[pairs.item_index]
    location_ids = inputs.location_ids[pairs.location_index]
    sales = pl.DataFrame(
        {
            "item_id": np.repeat(item_ids, n_weeks),
            "location_id": np.repeat(location_ids, n_weeks),
            "week": np.tile(weeks, n_pairs),
            "units": sold.ravel().astype(np.float64),
            "price": np.round(grid.price.ravel(), 2),
            "on_promo": grid.mechanic.ravel() >= 0,
            "mechanic_code": grid.mechanic.ravel(),
            "display": grid.display.ravel(),
            "feature": grid.feature.ravel(),
            "stockout": stockout.ravel(),
        }
    ).with_columns(pl.col("week").cast(pl.Date), _mechanic_name())

    rows, cols = np.nonzero(grid.mechanic >= 0)
    without = counterfactual_demand(
        stage_rng(inputs.seed, STAGE_COUNTERFACTUAL, category_index),
        wanted[rows, cols],
        expected[rows, cols],
        (expected / lift)[rows, cols],
    )
    truth = pl.DataFrame(
        {
            "item_id": item_ids[rows],
            "location_id": location_ids[rows],
            "week": weeks[cols],
            "event_id": grid.event[rows, cols],
            "mechanic_code": grid.mechanic[rows, cols],
            "depth": np.round(grid.depth[rows, cols], 4),
            "display": grid.display[rows, cols],
            "feature": grid.feature[rows, cols],
            "true_baseline_units": np.round(baseline[rows, cols], 4),
            "true_demand_units": np.round(expected[rows, cols], 4),
            "true_lift": np.round(lift[rows, cols], 4),
            "realised_demand_units": wanted[rows, cols].astype(np.float64),
            "censored": stockout[rows, cols],
            "counterfactual_demand_units": without.astype(np.float64),
            "counterfactual_sold_units": np.minimum(without, available_without[rows, cols]).astype(
                np.float64
            ),
        }
    ).with_columns(pl.col("week").cast(pl.Date), _mechanic_name())
    return CategoryHistory(sales=sales.drop("mechanic_code"), truth=truth.drop("mechanic_code"))


def counterfactual_demand(
    rng: np.random.Generator,
    wanted: npt.NDArray[np.int64],
    expected: npt.NDArray[np.float64],
    expected_without: npt.NDArray[np.float64],
) -> npt.NDArray[np.int64]:
    """Units the same shoppers would have wanted without the promotion (coupled draws).

    Given the week's gamma intensity, `wanted` is Poisson(expected x g). Thinning it by
    expected_without / expected gives exactly Poisson(expected_without x g) from the
    same shoppers; where the promotion lowered demand, the missing shoppers are added.
    """
    keep = np.divide(expected_without, expected, out=np.ones_like(expected), where=expected > 0)
    thinned = rng.binomial(wanted, np.minimum(keep, 1.0))
    added = rng.poisson(np.maximum(expected_without - expected, 0.0) * _intensity(wanted, expected))
    return np.asarray(np.where(keep <= 1.0, thinned, wanted + added), dtype=np.int64)


def _intensity(
    wanted: npt.NDArray[np.int64], expected: npt.NDArray[np.float64]
) -> npt.NDArray[np.float64]:
    # The gamma draw itself is not kept; the realised ratio stands in for it.
    return np.divide(wanted, expected, out=np.ones_like(expected), where=expected > 0)


def _mechanic_name() -> pl.Expr:
    names = dict(enumerate(demand.MECHANICS))
    return (
        pl.col("mechanic_code")
        .cast(pl.Int64)
        .replace_strict(names, default=None, return_dtype=pl.Utf8)
        .alias("mechanic")
    )

"""A simple, honest forecaster: recent unpromoted baseline x lift learnt from history.

Baseline: mean weekly units over the last `baseline_weeks` weeks that were neither
promoted nor out of stock (stockout weeks are censored: sales stopped because the
shelf was empty, not because demand fell). Thin history falls back to the item's
mean across stores, then the category mean, then the mean of everything given.

`history` has the weekly_sales columns and may carry a `category` column (or pass
`item_categories`); without either, all items form one category.

Lift: promoted weekly units / the item-location's baseline, pooled over promoted
weeks of the same category, mechanic, depth bucket, display and feature; then the
same without the category; then DEFAULT_LIFT_SLOPE. Quantiles come from a negative
binomial whose dispersion is estimated from the spread of unpromoted weeks.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping

import polars as pl

from promoflow.forecasting.base import PromotionScenario

MODEL_VERSION = "history-baseline-lift-1"

# Lift when history cannot tell: lift = 1 + slope x depth (x display, x feature).
# A slope of 2.4 gives 1.6x at 25 % off, inside the 1.3-2.0x range reported for
# grocery price promotions; bundles move fewer units per unit of depth.
DEFAULT_LIFT_SLOPE: dict[str, float] = {
    "percent_off": 2.4,
    "amount_off": 2.4,
    "fixed_price": 2.4,
    "multi_buy": 2.0,
    "bundle": 1.2,
}
DEFAULT_DISPLAY_LIFT = 1.2
DEFAULT_FEATURE_LIFT = 1.15
# Depth buckets (fraction off): below 15 %, 15-30 %, 30-50 %, 50 % and deeper.
DEPTH_EDGES = (0.15, 0.30, 0.50)
Z10 = -1.2815515655446004
Z90 = 1.2815515655446004
ALL_CATEGORIES = "all"
KEY = ["item_id", "location_id"]


def depth_bucket(depth: float) -> tuple[float, float]:
    """The [low, high) depth bucket that holds a discount depth (fraction off)."""
    edges = (-math.inf, *DEPTH_EDGES, math.inf)
    return next((low, high) for low, high in itertools.pairwise(edges) if depth < high)


def default_lift(mechanic: str, depth: float, display: bool, feature: bool) -> float:
    """The documented fallback lift for a mechanic at a depth, with display/feature."""
    lift = 1.0 + DEFAULT_LIFT_SLOPE.get(mechanic, 2.0) * max(depth, 0.0)
    if display:
        lift *= DEFAULT_DISPLAY_LIFT
    if feature:
        lift *= DEFAULT_FEATURE_LIFT
    return lift


class HistoryBaselineForecaster:
    """Baseline from recent clean weeks x lift by mechanic learnt from history."""

    history_weeks = 52

    def __init__(
        self,
        *,
        baseline_weeks: int = 13,
        min_history_weeks: int = 4,
        min_lift_observations: int = 8,
        model_version: str = MODEL_VERSION,
    ) -> None:
        self.baseline_weeks = baseline_weeks
        self.min_history_weeks = min_history_weeks
        self.min_lift_observations = min_lift_observations
        self.model_version = model_version

    def forecast(
        self,
        history: pl.DataFrame,
        scenario: PromotionScenario,
        *,
        item_categories: Mapping[int, str] | None = None,
    ) -> pl.DataFrame:
        """Forecast every item x location of the scenario over its window."""
        categories = _category_frame(history, scenario, item_categories)
        clean = _with_category(history, categories).filter(
            pl.col("week") < scenario.start, ~pl.col("stockout")
        )
        recent = self._recent_clean_weeks(clean)
        stats = self._item_location_stats(clean, recent)
        grid = (
            pl.DataFrame({"item_id": scenario.item_ids}, schema={"item_id": pl.Int64})
            .join(
                pl.DataFrame(
                    {"location_id": scenario.location_ids}, schema={"location_id": pl.Int64}
                ),
                how="cross",
            )
            .join(categories, on="item_id", how="left")
            .with_columns(pl.col("category").fill_null(ALL_CATEGORIES))
        )
        rates = self._baseline_rates(grid, stats, recent)
        lifts = self._lifts(clean, stats, scenario, grid)
        weeks = ((scenario.end - scenario.start).days + 1) / 7.0
        return _window_quantiles(rates.join(lifts, on="category", how="left"), weeks)

    def _recent_clean_weeks(self, clean: pl.DataFrame) -> pl.DataFrame:
        """The last `baseline_weeks` unpromoted weeks of each item x location."""
        newest_first = pl.col("week").rank("ordinal", descending=True).over(KEY)
        return clean.filter(~pl.col("on_promo")).filter(newest_first <= self.baseline_weeks)

    def _item_location_stats(self, clean: pl.DataFrame, recent: pl.DataFrame) -> pl.DataFrame:
        """Per item x location: weekly mean, NB dispersion and regular price."""
        stats = recent.group_by(KEY).agg(
            pl.len().alias("n_weeks"),
            pl.col("units").mean().alias("weekly_mean"),
            pl.col("units").var().alias("weekly_var"),
        )
        regular_price = (
            clean.filter(~pl.col("on_promo"))
            .group_by(KEY)
            .agg(pl.col("price").median().alias("regular_price"))
        )
        # alpha = 1/k of a negative binomial: var = mean + alpha * mean^2.
        alpha = (
            (pl.col("weekly_var") - pl.col("weekly_mean")) / pl.col("weekly_mean").pow(2)
        ).clip(lower_bound=0.0)
        return stats.join(regular_price, on=KEY, how="left").with_columns(
            pl.when((pl.col("n_weeks") >= self.min_history_weeks) & (pl.col("weekly_mean") > 0))
            .then(alpha)
            .otherwise(None)
            .alias("alpha")
        )

    def _baseline_rates(
        self, grid: pl.DataFrame, stats: pl.DataFrame, recent: pl.DataFrame
    ) -> pl.DataFrame:
        """Weekly rate per grid row with its source: item_location, item, category or pool."""
        enough = self.min_history_weeks
        item_rate = recent.group_by("item_id").agg(
            pl.col("units").mean().alias("item_rate"), pl.len().alias("item_n")
        )
        category_rate = recent.group_by("category").agg(
            pl.col("units").mean().alias("category_rate"), pl.len().alias("category_n")
        )
        pooled_rate = recent["units"].mean() if recent.height >= enough else None
        pooled_alpha = stats["alpha"].median() if stats["alpha"].drop_nulls().len() else None
        rates = (
            grid.join(stats.select([*KEY, "n_weeks", "weekly_mean", "alpha"]), on=KEY, how="left")
            .join(item_rate, on="item_id", how="left")
            .join(category_rate, on="category", how="left")
        )
        own = pl.col("n_weeks").fill_null(0) >= enough
        by_item = pl.col("item_n").fill_null(0) >= enough
        by_category = pl.col("category_n").fill_null(0) >= enough
        by_pool = pl.lit(pooled_rate is not None)
        return rates.select(
            *KEY,
            "category",
            pl.when(own)
            .then(pl.col("weekly_mean"))
            .when(by_item)
            .then(pl.col("item_rate"))
            .when(by_category)
            .then(pl.col("category_rate"))
            .when(by_pool)
            .then(pl.lit(pooled_rate, dtype=pl.Float64))
            .otherwise(0.0)
            .alias("weekly_rate"),
            pl.when(own)
            .then(pl.lit("item_location"))
            .when(by_item)
            .then(pl.lit("item"))
            .when(by_category)
            .then(pl.lit("category"))
            .when(by_pool)
            .then(pl.lit("pool"))
            .otherwise(pl.lit("none"))
            .alias("baseline_source"),
            pl.col("alpha").fill_null(pl.lit(pooled_alpha, dtype=pl.Float64)).fill_null(0.0),
        )

    def _lifts(
        self,
        clean: pl.DataFrame,
        stats: pl.DataFrame,
        scenario: PromotionScenario,
        grid: pl.DataFrame,
    ) -> pl.DataFrame:
        """The scenario's lift per category, learnt from promoted weeks where possible."""
        low, high = depth_bucket(scenario.discount_depth)
        observed = (
            clean.filter(pl.col("on_promo"))
            .join(
                stats.filter(
                    (pl.col("n_weeks") >= self.min_history_weeks) & (pl.col("weekly_mean") > 0)
                ).select([*KEY, "weekly_mean", "regular_price"]),
                on=KEY,
                how="inner",
            )
            .with_columns(
                (1.0 - pl.col("price") / pl.col("regular_price")).alias("depth"),
                pl.col("mechanic").fill_null(""),
                pl.col("display").fill_null(False),
                pl.col("feature").fill_null(False),
            )
            .filter(
                pl.col("mechanic") == scenario.mechanic,
                pl.col("depth") >= low,
                pl.col("depth") < high,
                pl.col("display") == scenario.display,
                pl.col("feature") == scenario.feature,
            )
        )
        by_category = observed.group_by("category").agg(
            (pl.col("units").sum() / pl.col("weekly_mean").sum()).alias("category_lift"),
            pl.len().alias("category_obs"),
        )
        enough = self.min_lift_observations
        overall = (
            float(observed["units"].sum()) / float(observed["weekly_mean"].sum())
            if observed.height >= enough
            else None
        )
        fallback = default_lift(
            scenario.mechanic, scenario.discount_depth, scenario.display, scenario.feature
        )
        learnt = pl.col("category_obs").fill_null(0) >= enough
        # A promotion does not lower demand; a ratio under 1 is noise or an
        # unflagged stockout, so the lift is floored at 1.
        return (
            grid.select("category")
            .unique()
            .join(by_category, on="category", how="left")
            .select(
                "category",
                pl.when(learnt)
                .then(pl.col("category_lift"))
                .when(pl.lit(overall is not None))
                .then(pl.lit(overall, dtype=pl.Float64))
                .otherwise(pl.lit(fallback))
                .clip(lower_bound=1.0)
                .alias("lift"),
                pl.when(learnt)
                .then(pl.lit("category"))
                .when(pl.lit(overall is not None))
                .then(pl.lit("all_categories"))
                .otherwise(pl.lit("default_table"))
                .alias("lift_source"),
            )
        )


def _category_frame(
    history: pl.DataFrame,
    scenario: PromotionScenario,
    item_categories: Mapping[int, str] | None,
) -> pl.DataFrame:
    """item_id -> category from the argument, else from history's optional column."""
    schema = {"item_id": pl.Int64, "category": pl.String}
    if item_categories:
        return pl.DataFrame(
            {"item_id": list(item_categories), "category": list(item_categories.values())},
            schema=schema,
        )
    if "category" in history.columns:
        return history.select(
            pl.col("item_id").cast(pl.Int64), pl.col("category").cast(pl.String)
        ).unique(subset="item_id", keep="first")
    ids = sorted(set(scenario.item_ids) | set(history["item_id"].unique().to_list()))
    return pl.DataFrame({"item_id": ids, "category": [ALL_CATEGORIES] * len(ids)}, schema=schema)


def _with_category(history: pl.DataFrame, categories: pl.DataFrame) -> pl.DataFrame:
    return (
        history.drop("category", strict=False)
        .with_columns(pl.col("item_id").cast(pl.Int64), pl.col("location_id").cast(pl.Int64))
        .join(categories, on="item_id", how="left")
        .with_columns(pl.col("category").fill_null(ALL_CATEGORIES))
    )


def _window_quantiles(frame: pl.DataFrame, weeks: float) -> pl.DataFrame:
    """Totals over the window and P10/P50/P90 of promoted demand.

    The sum of `weeks` independent NB(m, k) weeks is NB(weeks*m, weeks*k); its
    quantiles use the Wilson-Hilferty approximation of a gamma with the same mean
    and variance, which is monotone in z so P10 <= P50 <= P90 always holds.
    """
    mean = pl.col("promoted_units")
    variance = mean + pl.col("alpha") / weeks * mean.pow(2)
    shape = mean.pow(2) / variance

    def quantile(z: float) -> pl.Expr:
        inv = 1.0 / (9.0 * shape)
        cube = (1.0 - inv + z * inv.sqrt()).clip(lower_bound=0.0).pow(3)
        return pl.when(mean > 0).then(mean * cube).otherwise(0.0)

    return (
        frame.with_columns(
            (pl.col("weekly_rate") * weeks).alias("baseline_units"),
            (pl.col("weekly_rate") * weeks * pl.col("lift")).alias("promoted_units"),
        )
        .with_columns(
            quantile(Z10).alias("p10"), quantile(0.0).alias("p50"), quantile(Z90).alias("p90")
        )
        .select(
            *KEY,
            pl.col("baseline_units").round(3),
            pl.col("promoted_units").round(3),
            pl.col("p10").round(3),
            pl.col("p50").round(3),
            pl.col("p90").round(3),
            "lift",
            "baseline_source",
            "lift_source",
        )
        .sort(KEY)
    )

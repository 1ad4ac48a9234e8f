"""The SCAN*PRO lift prior recovers elasticities and promotion factors it was built from."""

from __future__ import annotations

import math

import numpy as np
import polars as pl

from promoflow.forecasting.features import STOCKOUT_SALES, WEIGHT
from promoflow.forecasting.lift_prior import LIFT_PRIOR, LiftPrior
from promoflow.forecasting.panel import PanelSpec

SPEC = PanelSpec(
    id_cols=("series",),
    time_col="week",
    target="units",
    known_covariates=("price", "on_promo", "display", "mechanic"),
    promo_cols=("on_promo", "display", "mechanic"),
    static_cols=("category",),
    category_col="category",
)
ELASTICITY = {0: -1.5, 1: -3.0}
DISPLAY = 1.35
MECHANIC = {1: 1.0, 2: 1.2}  # e.g. percent off, multi-buy


def history(
    series: int = 80, weeks: int = 60, seed: int = 4, shelf: float | None = None
) -> pl.DataFrame:
    """Engineered rows: Poisson demand at a flat level; promotions as SCAN*PRO says.

    With `shelf`, a promoted week has `shelf` x its expected demand on the shelf
    and sells out (weight 0, what it sold kept) when demand is higher.
    """
    rng = np.random.default_rng(seed)
    rows = []
    for s in range(series):
        category, level = s % 2, rng.uniform(5, 30)
        for w in range(weeks):
            promoted = rng.random() < 0.2
            depth = rng.choice([0.1, 0.2, 0.3, 0.4]) if promoted else 0.0
            display = float(promoted and rng.random() < 0.5)
            mechanic = int(rng.integers(1, 3)) if promoted else 0
            lift = (
                (1 - depth) ** ELASTICITY[category]
                * (DISPLAY if display else 1.0)
                * MECHANIC.get(mechanic, 1.0)
            )
            demand = float(rng.poisson(level * lift))
            stock = math.floor(level * lift * shelf) if shelf and promoted else math.inf
            rows.append(
                (
                    str(s),
                    w,
                    float(min(demand, stock)),
                    demand > stock,
                    1 - depth,
                    float(promoted),
                    display,
                    float(mechanic),
                    category,
                )
            )
    frame = pl.DataFrame(
        rows,
        schema=[
            "unique_id",
            "ds",
            "y",
            "sold_out",
            "price_rel",
            "on_promo",
            "display",
            "mechanic",
            "category",
        ],
        orient="row",
    )
    return frame.with_columns(
        pl.when("sold_out").then(0.0).otherwise(1.0).alias(WEIGHT),
        pl.col("price_rel").alias("price"),
        pl.when("sold_out").then(pl.col("y")).alias(STOCKOUT_SALES),
    )


def test_the_prior_recovers_each_category_elasticity_and_the_promotion_factors() -> None:
    frame = history()
    prior = LiftPrior.fit(frame, SPEC, 0.1)
    assert prior is not None
    assert prior.codes == {"mechanic": (1.0, 2.0)}

    def lift(category: int, depth: float, display: float, mechanic: int) -> float:
        row = frame.head(1).with_columns(
            pl.lit(1 - depth).alias("price_rel"),
            pl.lit(1.0).alias("on_promo"),
            pl.lit(display).alias("display"),
            pl.lit(float(mechanic)).alias("mechanic"),
            pl.lit(category).alias("category"),
        )
        return math.exp(prior.apply(row)[LIFT_PRIOR].item())

    for category, elasticity in ELASTICITY.items():
        truth = 0.7**elasticity
        assert abs(lift(category, 0.3, 0.0, 1) / truth - 1) < 0.06, (category, truth)
    assert abs(lift(0, 0.2, 1.0, 1) / lift(0, 0.2, 0.0, 1) / DISPLAY - 1) < 0.06
    assert abs(lift(1, 0.2, 0.0, 2) / lift(1, 0.2, 0.0, 1) / MECHANIC[2] - 1) < 0.06


def test_no_promotion_means_no_lift_and_too_few_promotions_mean_no_prior() -> None:
    frame = history()
    prior = LiftPrior.fit(frame, SPEC, 0.1)
    assert prior is not None
    applied = prior.apply(frame)
    unpromoted = applied.filter(pl.col("on_promo") == 0)
    assert unpromoted[LIFT_PRIOR].abs().max() == 0.0
    assert applied.filter(pl.col("on_promo") > 0)[LIFT_PRIOR].mean() > 0.3  # type: ignore[operator]
    assert LiftPrior.fit(history(series=2, weeks=20), SPEC, 0.1) is None


def test_promotions_that_sold_out_do_not_teach_a_low_lift() -> None:
    """Sold-out weeks are the high side of demand: unconstrained, the lift stays true."""
    frame = history(shelf=1.1)
    sold_out = frame.filter(pl.col("sold_out")).height
    assert sold_out > 0.2 * frame.filter(pl.col("on_promo") > 0).height
    left_out = frame.with_columns(pl.lit(None, dtype=pl.Float64).alias(STOCKOUT_SALES))

    def mean_lift(rows: pl.DataFrame) -> float:
        prior = LiftPrior.fit(rows, SPEC, dispersion=0.01)
        assert prior is not None
        promoted = prior.apply(frame).filter(pl.col("on_promo") > 0)
        return float(np.exp(promoted[LIFT_PRIOR]).mean())

    truth = float(
        frame.filter(pl.col("on_promo") > 0)
        .select(
            pl.when(pl.col("category") == 0)
            .then(pl.col("price_rel") ** ELASTICITY[0])
            .otherwise(pl.col("price_rel") ** ELASTICITY[1])
            * pl.when(pl.col("display") > 0).then(DISPLAY).otherwise(1.0)
            * pl.when(pl.col("mechanic") == 2).then(MECHANIC[2]).otherwise(1.0)
        )
        .to_series()
        .mean()
    )
    assert abs(mean_lift(frame) / truth - 1) < 0.05, (mean_lift(frame), truth)
    assert mean_lift(left_out) < 0.95 * truth, (mean_lift(left_out), truth)


def test_a_category_the_fit_never_saw_gets_the_shared_elasticity() -> None:
    frame = history()
    prior = LiftPrior.fit(frame, SPEC, 0.1)
    assert prior is not None
    row = frame.filter(pl.col("on_promo") > 0).head(1).with_columns(pl.lit(0.7).alias("price_rel"))

    def lift(category: int) -> float:
        applied = prior.apply(row.with_columns(pl.lit(category).alias("category")))
        return math.exp(applied[LIFT_PRIOR].item())

    assert lift(0) < lift(7) < lift(1)  # between the elastic and the inelastic category

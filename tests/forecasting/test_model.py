"""The global demand model on synthetic retailers whose true lift and level are known."""

from __future__ import annotations

import pickle
from datetime import date, timedelta

import numpy as np
import polars as pl
import pytest

from promoflow.forecasting.model import GlobalDemandModel, ModelConfig, RowSample
from promoflow.forecasting.panel import Panel, PanelSpec
from promoflow.kit.errors import InvalidInput

TRUE_LIFT = 2.0
WEEKS = 80
HOLDOUT = 10
SPEC = PanelSpec(
    id_cols=("series",),
    time_col="week",
    target="units",
    known_covariates=("price", "on_promo"),
    promo_cols=("on_promo",),
    static_cols=("region",),
    censor_col="stockout",
)
FAST = ModelConfig(n_estimators=80, learning_rate=0.1, num_leaves=15, min_child_samples=20)


def retailer(
    series: int = 150,
    *,
    seed: int = 3,
    cap_promotions: bool = False,
    shift_at: int | None = None,
    promotion_shelf: float | None = None,
) -> pl.DataFrame:
    """Weekly Poisson demand at a per-series level; promotions multiply it by TRUE_LIFT.

    With `cap_promotions`, half the promoted weeks before the holdout sell at most
    the usual level (the shelf ran out) and are flagged as stockouts. With
    `promotion_shelf`, promoted weeks before the holdout have that many times the
    level on the shelf and sell out whenever demand exceeds it, so the weeks that
    sell out are the ones whose demand was high. With `shift_at`, every level
    doubles from that week on.
    """
    rng = np.random.default_rng(seed)
    levels = rng.uniform(3, 40, series)
    rows = []
    for s in range(series):
        promo_weeks = set(rng.choice(np.arange(4, WEEKS), size=8, replace=False).tolist())
        promo_weeks.add(WEEKS - 4 - s % 3)  # every series has a promotion in the holdout
        for w in range(WEEKS):
            level = levels[s] * (2.0 if shift_at is not None and w >= shift_at else 1.0)
            on = w in promo_weeks
            demand = rng.poisson(level * (TRUE_LIFT if on else 1.0))
            before = on and w < WEEKS - HOLDOUT
            capped = cap_promotions and before and rng.random() < 0.5
            sold = min(demand, int(level)) if capped else demand
            if promotion_shelf is not None and before:
                shelf = int(level * promotion_shelf)
                capped, sold = demand > shelf, min(demand, shelf)
            rows.append((s, w, float(sold), 4.0 * (0.7 if on else 1.0), float(on), capped, s % 4))
    frame = pl.DataFrame(
        rows,
        schema=["s", "w", "y", "price", "on_promo", "censored", "r"],
        orient="row",
    )
    return frame.select(
        pl.col("s").cast(pl.String).alias("unique_id"),
        pl.col("w").cast(pl.Int64).alias("ds"),
        "y",
        "censored",
        "price",
        "on_promo",
        pl.format("region-{}", "r").alias("region"),
    )


def weekly_calendar(weeks: int = WEEKS) -> pl.DataFrame:
    start = date(2024, 1, 1)
    return pl.DataFrame(
        {"ds": list(range(weeks)), "period": [start + timedelta(weeks=w) for w in range(weeks)]},
        schema={"ds": pl.Int64, "period": pl.Date},
    )


def split(frame: pl.DataFrame, cutoff: int) -> tuple[Panel, pl.DataFrame]:
    history = Panel(SPEC, frame.filter(pl.col("ds") <= cutoff), weekly_calendar())
    return history, frame.filter(pl.col("ds") > cutoff)


@pytest.fixture(scope="module")
def fitted() -> tuple[GlobalDemandModel, pl.DataFrame]:
    history, holdout = split(retailer(), WEEKS - HOLDOUT - 1)
    model = GlobalDemandModel(FAST).fit(history)
    predicted = model.predict(holdout.drop("y", "censored"))
    return model, holdout.join(predicted, on=["unique_id", "ds"])


def test_lift_and_baseline_recover_the_truth(
    fitted: tuple[GlobalDemandModel, pl.DataFrame],
) -> None:
    _, scored = fitted
    promoted = scored.filter(pl.col("on_promo") > 0)
    lift = promoted["forecast"].sum() / promoted["baseline"].sum()
    assert 1.6 < lift < 2.5, lift
    # The baseline on promoted weeks is the usual level: what unpromoted weeks sell.
    usual = scored.filter(pl.col("on_promo") == 0)["y"].mean()
    baseline = promoted["baseline"].mean()
    assert usual is not None and baseline is not None
    assert 0.8 < float(baseline) / float(usual) < 1.25


def test_without_a_promotion_ahead_the_baseline_is_the_forecast(
    fitted: tuple[GlobalDemandModel, pl.DataFrame],
) -> None:
    model, scored = fitted
    quiet = {"0", "1", "2"}
    future = scored.select("unique_id", "ds", "price", "on_promo").with_columns(
        pl.when(pl.col("unique_id").is_in(quiet)).then(0.0).otherwise("on_promo").alias("on_promo"),
        pl.when(pl.col("unique_id").is_in(quiet)).then(4.0).otherwise("price").alias("price"),
    )
    predicted = model.predict(future).join(future, on=["unique_id", "ds"])
    unpromoted = predicted.filter(pl.col("unique_id").is_in(quiet))
    assert (unpromoted["baseline"] == unpromoted["forecast"]).all()
    promoted = predicted.filter(pl.col("on_promo") > 0)
    assert (promoted["forecast"] > promoted["baseline"]).mean() > 0.9  # type: ignore[operator]


def test_quantiles_are_ordered_and_cover_about_eighty_percent(
    fitted: tuple[GlobalDemandModel, pl.DataFrame],
) -> None:
    _, scored = fitted
    ordered = scored.filter(
        (pl.col("p10") <= pl.col("p50"))
        & (pl.col("p50") <= pl.col("p80"))
        & (pl.col("p80") <= pl.col("p90"))
        & (pl.col("p10") >= 0)
    )
    assert ordered.height == scored.height
    inside = scored.select(
        ((pl.col("y") >= pl.col("p10")) & (pl.col("y") <= pl.col("p90"))).mean()
    ).item()
    assert 0.65 <= inside <= 0.93, inside


def test_beats_a_moving_average_on_promotion_weeks(
    fitted: tuple[GlobalDemandModel, pl.DataFrame],
) -> None:
    _, scored = fitted
    history = retailer().filter(pl.col("ds").is_between(WEEKS - HOLDOUT - 4, WEEKS - HOLDOUT - 1))
    average = history.group_by("unique_id").agg(pl.col("y").mean().alias("ma"))
    promoted = scored.filter(pl.col("on_promo") > 0).join(average, on="unique_id")
    actual = promoted["y"].sum()
    model_wape = (promoted["y"] - promoted["forecast"]).abs().sum() / actual
    average_wape = (promoted["y"] - promoted["ma"]).abs().sum() / actual
    assert model_wape < 0.7 * average_wape


def promoted_lift(history: Panel, holdout: pl.DataFrame, config: ModelConfig = FAST) -> float:
    """Forecast over baseline, summed over the holdout's promoted weeks."""
    promoted = holdout.filter(pl.col("on_promo") > 0).select("unique_id", "ds")
    rows = (
        GlobalDemandModel(config)
        .fit(history)
        .predict(holdout.drop("y", "censored"))
        .join(promoted, on=["unique_id", "ds"])
    )
    return float(rows["forecast"].sum() / rows["baseline"].sum())


def test_stockout_weeks_do_not_teach_that_demand_was_low() -> None:
    """Promotions that sold out: flagged, the model still learns the full lift."""
    capped = retailer(seed=5, cap_promotions=True)
    history, holdout = split(capped, WEEKS - HOLDOUT - 1)
    aware = promoted_lift(history, holdout)
    naive = promoted_lift(
        Panel(
            SPEC,
            history.frame.with_columns(pl.lit(value=False).alias("censored")),
            history.calendar,
        ),
        holdout,
    )
    assert aware > 1.6, aware
    assert aware > naive * 1.15, (aware, naive)


def test_promotions_that_sold_out_in_their_best_weeks_do_not_teach_a_low_lift() -> None:
    """Promoted weeks sell out when demand ran high; left out, the lift learnt is too low."""
    history, holdout = split(
        retailer(seed=21, promotion_shelf=TRUE_LIFT * 1.05), WEEKS - HOLDOUT - 1
    )
    sold_out = history.frame.filter(pl.col("censored") & (pl.col("on_promo") > 0)).height
    assert sold_out > 0.3 * history.frame.filter(pl.col("on_promo") > 0).height
    unconstrained = promoted_lift(history, holdout)
    left_out = promoted_lift(
        history, holdout, ModelConfig(**{**FAST.__dict__, "unconstrain_promotions": False})
    )
    assert abs(unconstrained / TRUE_LIFT - 1) < 0.08, unconstrained
    assert left_out < unconstrained * 0.95, (left_out, unconstrained)


def test_a_training_row_budget_keeps_promotions_and_reweights_the_rest() -> None:
    """Above the budget every promoted row stays; the others are sampled and reweighted."""
    rows = pl.DataFrame(
        {"weight": [1.0] * 9_000 + [0.0] * 1_000, "promo_any": [1.0] * 1_000 + [0.0] * 9_000}
    )
    sample = RowSample.within(rows, budget=3_000)
    assert sample.promoted == 1.0
    assert sample.other == 2_000 / 8_000
    kept, target = sample.draw(rows, np.arange(rows.height, dtype=np.float64), seed=1)
    assert kept.height == target.size
    assert kept.filter(pl.col("promo_any") > 0).height == 1_000
    # The reweighted sample stands for the 8,000 weighted unpromoted rows (weight-0 rows go).
    others = kept.filter(pl.col("promo_any") == 0)
    assert abs(others["weight"].sum() - 8_000) < 400
    assert RowSample.within(rows, budget=None) == RowSample()


def test_a_model_fitted_on_a_row_sample_still_learns_the_lift() -> None:
    history, holdout = split(retailer(seed=13), WEEKS - HOLDOUT - 1)
    sampled = ModelConfig(**{**FAST.__dict__, "max_training_rows": 4_000})
    predicted = GlobalDemandModel(sampled).fit(history).predict(holdout.drop("y", "censored"))
    promoted = predicted.join(holdout.filter(pl.col("on_promo") > 0), on=["unique_id", "ds"])
    lift = promoted["forecast"].sum() / promoted["baseline"].sum()
    assert 1.6 < lift < 2.5, lift


def test_forecasts_from_fresh_history_without_refitting() -> None:
    """A model trained before a level change forecasts the new level from this week's sales."""
    frame = retailer(seed=9, shift_at=60)
    trained, _ = split(frame, 55)
    fresh, holdout = split(frame, WEEKS - HOLDOUT - 1)
    model = GlobalDemandModel(FAST).fit(trained)
    future = holdout.drop("y", "censored")
    current = model.predict(future, history=fresh).join(holdout, on=["unique_id", "ds"])
    unpromoted = current.filter(pl.col("on_promo") == 0)
    ratio = unpromoted["forecast"].sum() / unpromoted["y"].sum()
    assert 0.8 < ratio < 1.2, ratio


def test_integer_periods_and_gaps() -> None:
    """No calendar (integer periods) and series with missing weeks still forecast."""
    frame = retailer(series=60, seed=11).filter((pl.col("ds") % 7 != 3) | (pl.col("ds") > 70))
    calendar = pl.DataFrame({"ds": list(range(WEEKS)), "period": list(range(100, 100 + WEEKS))})
    history = Panel(SPEC, frame.filter(pl.col("ds") <= 69), calendar)
    holdout = frame.filter(pl.col("ds") > 69)
    predicted = GlobalDemandModel(FAST).fit(history).predict(holdout.drop("y", "censored"))
    assert predicted.height == holdout.height
    assert predicted.filter(pl.col("forecast").is_null()).height == 0


def test_refuses_what_it_cannot_forecast() -> None:
    history, holdout = split(retailer(series=30), 69)
    model = GlobalDemandModel(FAST)
    with pytest.raises(InvalidInput, match="model"):
        model.predict(holdout)
    model.fit(history)
    stranger = holdout.head(1).with_columns(pl.lit("no-such-series").alias("unique_id"))
    with pytest.raises(InvalidInput, match="no-such-series"):
        model.predict(stranger)
    with pytest.raises(InvalidInput, match=r"future\.ds"):
        model.predict(history.frame.tail(1))
    with pytest.raises(InvalidInput, match="price"):
        model.predict(holdout.drop("price"))


def test_a_model_stored_before_the_lift_prior_still_forecasts() -> None:
    """A revision-2 artefact (no lift prior attribute) unpickles and forecasts as trained."""
    history, holdout = split(retailer(series=40, seed=17), WEEKS - HOLDOUT - 1)
    old = ModelConfig(**{**FAST.__dict__, "lift_prior": False})
    model = GlobalDemandModel(old).fit(history)
    future = holdout.drop("y", "censored")
    expected = model.predict(future)
    # What a model pickled by revision 2 lacks: its own and its history's new fields.
    for holder, names in (
        (model, ("lift_prior", "season_profile")),
        (model._fitted, ("season_profile", "dispersion")),
        (model.spec, ("category_col",)),
    ):
        for name in names:
            del holder.__dict__[name]
    restored = pickle.loads(pickle.dumps(model))
    assert restored.predict(future).equals(expected)

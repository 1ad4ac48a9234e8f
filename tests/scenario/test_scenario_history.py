"""The sales history behaves the way a demand planner would expect of real sales."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import polars as pl
import pytest
import sqlalchemy as sa
from scenario_support import frame
from sqlalchemy.orm import Session, sessionmaker

from promoflow.catalog.models import Item, Location
from promoflow.inventory.models import WeeklySales
from promoflow.scenario import repository
from promoflow.scenario.demand import seasonal_index
from promoflow.scenario.generator import ScenarioSummary
from promoflow.scenario.models import ScenarioPromotionEvent, ScenarioPromotionTruth

pytestmark = pytest.mark.postgres

Retailer = tuple[sessionmaker[Session], ScenarioSummary]


@pytest.fixture(scope="module")
def history(small_retailer: Retailer) -> pl.DataFrame:
    """Every sales row with its expected baseline and what kind of week it was."""
    sessions, _ = small_retailer
    sales = (
        frame(sessions, sa.select(WeeklySales.__table__))
        .join(frame(sessions, sa.select(Item.id.label("item_id"), Item.category)), on="item_id")
        .join(
            frame(sessions, sa.select(Location.id.label("location_id"), Location.region)),
            on="location_id",
        )
    )
    with sessions() as session:
        params = repository.load_demand_params(session)
        profiles = repository.load_category_demand(session)
    weeks = np.array(sorted(set(sales["week"])), dtype="datetime64[D]")
    season = pl.concat(
        pl.DataFrame({"category": name, "week": weeks, "season": seasonal_index(weeks, p)})
        for name, p in profiles.items()
    ).with_columns(pl.col("week").cast(pl.Date))
    sales = sales.join(
        params.select("item_id", "location_id", "base_rate"), on=["item_id", "location_id"]
    ).join(season, on=["category", "week"])
    events = frame(sessions, sa.select(ScenarioPromotionEvent.__table__))
    # A category's event runs at its region (or everywhere) and touches every item there.
    touched = (
        sales.select("item_id", "location_id", "week", "category", "region")
        .join(
            events.select("category", "region", "start_week", "end_week"),
            on="category",
            suffix="_event",
        )
        .filter(
            pl.col("week").is_between("start_week", "end_week")
            & (pl.col("region_event").is_null() | (pl.col("region_event") == pl.col("region")))
        )
        .select("item_id", "location_id", "week")
        .unique()
        .with_columns(pl.lit(True).alias("category_event"))
    )
    promoted = (
        sales.filter("on_promo")
        .select("item_id", "location_id", (pl.col("week") + timedelta(days=7)).alias("week"))
        .with_columns(pl.lit(True).alias("after_promo"))
    )
    return (
        sales.join(touched, on=["item_id", "location_id", "week"], how="left")
        .join(promoted, on=["item_id", "location_id", "week"], how="left")
        .with_columns(
            baseline=pl.col("base_rate") * pl.col("season"),
            kind=pl.when("on_promo")
            .then(pl.lit("promoted"))
            .when(pl.col("category_event").fill_null(False))
            .then(pl.lit("sibling"))
            .when(pl.col("after_promo").fill_null(False))
            .then(pl.lit("post_promotion"))
            .otherwise(pl.lit("regular")),
        )
    )


def _ratio(history: pl.DataFrame, kind: str) -> float:
    rows = history.filter(pl.col("kind") == kind)
    return float(rows["units"].sum() / rows["baseline"].sum())


def test_a_tenth_of_item_weeks_are_on_promotion(history: pl.DataFrame) -> None:
    share = history["on_promo"].mean()
    assert isinstance(share, float)
    assert 0.06 <= share <= 0.16


def test_promoted_weeks_sell_far_more_than_comparable_weeks(history: pl.DataFrame) -> None:
    per_pair = (
        history.filter(pl.col("kind").is_in(["promoted", "regular"]))
        .group_by("item_id", "location_id", "kind")
        .agg((pl.col("units").sum() / pl.col("baseline").sum()).alias("ratio"))
        .pivot(on="kind", index=["item_id", "location_id"], values="ratio")
        .drop_nulls()
    )
    assert per_pair.height > 100
    assert (per_pair["promoted"] > per_pair["regular"]).mean() > 0.9  # type: ignore[operator]
    assert _ratio(history, "promoted") > 1.8 * _ratio(history, "regular")


def test_the_week_after_a_promotion_dips(history: pl.DataFrame) -> None:
    assert _ratio(history, "post_promotion") < 0.95 * _ratio(history, "regular")


def test_siblings_lose_sales_while_their_category_is_promoted(history: pl.DataFrame) -> None:
    assert _ratio(history, "sibling") < 0.97 * _ratio(history, "regular")


def _truth(sessions: sessionmaker[Session]) -> pl.DataFrame:
    truth = frame(sessions, sa.select(ScenarioPromotionTruth.__table__))
    sales = frame(
        sessions,
        sa.select(
            WeeklySales.item_id,
            WeeklySales.location_id,
            WeeklySales.week,
            WeeklySales.units,
            WeeklySales.stockout,
        ).where(WeeklySales.on_promo),
    )
    return truth.join(sales, on=["item_id", "location_id", "week"], how="full", coalesce=True)


def test_every_promoted_week_has_ground_truth(small_retailer: Retailer) -> None:
    truth = _truth(small_retailer[0])
    assert truth["event_id"].null_count() == 0
    assert truth["units"].null_count() == 0
    assert (truth["true_lift"] > 1.0).all()
    ratio = truth["true_demand_units"] / truth["true_baseline_units"]
    assert np.allclose(ratio.to_numpy(), truth["true_lift"].to_numpy(), rtol=1e-3)


def test_the_truth_keeps_what_the_same_shoppers_would_have_bought_without_it(
    small_retailer: Retailer,
) -> None:
    truth = _truth(small_retailer[0])
    without = truth["counterfactual_demand_units"]
    assert without.null_count() == 0
    # The same shoppers: a promotion that lifts demand never leaves fewer of them buying.
    assert (without <= truth["realised_demand_units"]).all()
    assert (truth["counterfactual_sold_units"] <= without).all()
    # Drawn around the baseline the demand model applied (thousands of cells).
    assert 0.95 < without.sum() / truth["true_baseline_units"].sum() < 1.05
    assert (truth["units"] - truth["counterfactual_sold_units"]).sum() > 0


def test_deeper_discounts_and_support_lift_observed_demand(small_retailer: Retailer) -> None:
    truth = _truth(small_retailer[0]).with_columns(
        observed=pl.col("realised_demand_units") / pl.col("true_baseline_units")
    )

    def observed(rows: pl.DataFrame) -> float:
        return float(rows["realised_demand_units"].sum() / rows["true_baseline_units"].sum())

    plain = truth.filter(~pl.col("display") & ~pl.col("feature"))
    assert observed(plain.filter(pl.col("depth") >= 0.3)) > observed(
        plain.filter(pl.col("depth") <= 0.2)
    )
    middle = truth.filter(pl.col("depth").is_between(0.15, 0.3))
    supported = middle.filter(pl.col("display") & pl.col("feature"))
    unsupported = middle.filter(~pl.col("display") & ~pl.col("feature"))
    assert observed(supported) > observed(unsupported)


def test_stockouts_censor_sales_and_are_flagged(small_retailer: Retailer) -> None:
    truth = _truth(small_retailer[0])
    censored = truth.filter("censored")
    assert censored.height > 0
    assert (censored["units"] < censored["realised_demand_units"]).all()
    assert censored["stockout"].all()
    served = truth.filter(~pl.col("censored"))
    assert (served["units"] == served["realised_demand_units"]).all()
    assert not served["stockout"].any()


def test_promotions_run_out_of_stock_more_often(history: pl.DataFrame) -> None:
    rates = dict(history.group_by("on_promo").agg(pl.col("stockout").mean()).rows())
    assert 0.005 < rates[False] < 0.08
    assert rates[True] > 1.5 * rates[False]


def test_events_are_category_sets_at_a_region_or_everywhere(small_retailer: Retailer) -> None:
    sessions, _ = small_retailer
    truth = frame(
        sessions,
        sa.select(
            ScenarioPromotionTruth.event_id,
            Item.category,
            Item.restricted,
            Location.region,
            ScenarioPromotionEvent.category.label("event_category"),
            ScenarioPromotionEvent.region.label("event_region"),
        )
        .join(Item, Item.id == ScenarioPromotionTruth.item_id)
        .join(Location, Location.id == ScenarioPromotionTruth.location_id)
        .join(ScenarioPromotionEvent, ScenarioPromotionEvent.id == ScenarioPromotionTruth.event_id),
    )
    assert (truth["category"] == truth["event_category"]).all()
    assert not truth["restricted"].any()
    regional = truth.filter(pl.col("event_region").is_not_null())
    assert (regional["region"] == regional["event_region"]).all()
    national = truth.filter(pl.col("event_region").is_null())
    assert "Online" in set(national["region"])

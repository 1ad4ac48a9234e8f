"""Cross-item features: what an item's siblings do in the same period, checkable by hand."""

from __future__ import annotations

import polars as pl
import pytest

from promoflow.forecasting.features import PROMO_ANY, cross_item
from promoflow.forecasting.panel import PanelSpec

SPEC = PanelSpec(
    id_cols=("item", "store"),
    time_col="week",
    target="units",
    known_covariates=("price", "on_promo"),
    promo_cols=("on_promo",),
    static_cols=("category", "store"),
    category_col="category",
    group_cols=("category", "store"),
)


def timeline() -> pl.DataFrame:
    """Three cheeses at store 1 and one at store 2, two weeks; relative prices given."""
    rows = [
        # unique_id, ds, category, store, promo_any, price_rel
        ("a|1", 0, "cheese", 1, 0.0, 1.0),
        ("b|1", 0, "cheese", 1, 1.0, 0.8),
        ("c|1", 0, "cheese", 1, 1.0, 0.6),
        ("a|2", 0, "cheese", 2, 1.0, 0.5),
        ("a|1", 1, "cheese", 1, 0.0, 1.0),
        ("b|1", 1, "cheese", 1, 0.0, 1.0),
        ("c|1", 1, "cheese", 1, 0.0, 1.0),
        ("a|2", 1, "cheese", 2, 0.0, 1.0),
    ]
    return pl.DataFrame(
        rows,
        schema=["unique_id", "ds", "category", "store", PROMO_ANY, "price_rel"],
        orient="row",
    )


def row(frame: pl.DataFrame, series: str, ds: int) -> dict[str, float]:
    return frame.filter((pl.col("unique_id") == series) & (pl.col("ds") == ds)).row(0, named=True)


def test_siblings_in_the_same_store_and_week() -> None:
    features = cross_item(timeline(), SPEC)
    a = row(features, "a|1", 0)
    # Siblings b and c: mean relative price 0.7, both promoted, depths 0.2 and 0.4.
    assert a["sibling_price_index"] == pytest.approx(1.0 / 0.7)
    assert a["sibling_promo_share"] == pytest.approx(1.0)
    assert a["sibling_depth"] == pytest.approx(0.3)
    b = row(features, "b|1", 0)
    assert b["sibling_price_index"] == pytest.approx(0.8 / 0.8)  # a at 1.0, c at 0.6
    assert b["sibling_promo_share"] == pytest.approx(0.5)
    assert b["sibling_depth"] == pytest.approx(0.2)  # only c is promoted, 40 % off, over 2


def test_an_item_alone_in_its_group_has_neutral_siblings() -> None:
    alone = row(cross_item(timeline(), SPEC), "a|2", 0)
    assert alone["sibling_price_index"] == 1.0
    assert alone["sibling_promo_share"] == 0.0
    assert alone["sibling_depth"] == 0.0


def test_the_depth_of_the_last_promotion_carries_forward() -> None:
    features = cross_item(timeline(), SPEC)
    assert row(features, "c|1", 0)["last_promo_depth"] == 0.0  # none before week 0
    assert row(features, "c|1", 1)["last_promo_depth"] == pytest.approx(0.4)
    assert row(features, "a|1", 1)["last_promo_depth"] == 0.0


def test_without_sibling_columns_only_the_item_s_own_history() -> None:
    plain = PanelSpec(
        id_cols=("item",),
        time_col="week",
        target="units",
        known_covariates=("price", "on_promo"),
        promo_cols=("on_promo",),
    )
    features = cross_item(timeline(), plain)
    assert "last_promo_depth" in features.columns
    assert "sibling_price_index" not in features.columns


def test_the_category_groups_siblings_when_no_group_is_named() -> None:
    by_category = PanelSpec(
        id_cols=("item", "store"),
        time_col="week",
        target="units",
        known_covariates=("price", "on_promo"),
        promo_cols=("on_promo",),
        static_cols=("category",),
        category_col="category",
    )
    # Every cheese, both stores: a|1's siblings are b|1, c|1 and a|2.
    a = row(cross_item(timeline(), by_category), "a|1", 0)
    assert a["sibling_promo_share"] == pytest.approx(1.0)
    assert a["sibling_price_index"] == pytest.approx(1.0 / ((0.8 + 0.6 + 0.5) / 3))

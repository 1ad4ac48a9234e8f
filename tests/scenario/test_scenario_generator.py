"""The seeded retailer: sizes, determinism, re-runs and the master data a user sees."""

from __future__ import annotations

from datetime import date, timedelta

import polars as pl
import pytest
import sqlalchemy as sa
from scenario_support import TODAY, DatabaseFactory, frame
from sqlalchemy.orm import Session, sessionmaker

from promoflow.catalog.models import Item, Location, Price, Ranging, Supplier
from promoflow.connectors.sandbox.models import SandboxStock
from promoflow.inventory.models import InventoryPosition, WeeklySales
from promoflow.kit.errors import InvalidInput
from promoflow.scenario.generator import ScenarioSize, ScenarioSummary, generate

pytestmark = pytest.mark.postgres

Retailer = tuple[sessionmaker[Session], ScenarioSummary]


def test_small_size_is_honoured(small_retailer: Retailer) -> None:
    sessions, summary = small_retailer
    locations = frame(sessions, sa.select(Location.code, Location.kind, Location.region))
    kinds = locations.group_by("kind").len().sort("kind").rows()
    assert kinds == [("dc", 1), ("ecommerce", 1), ("store", 10)]
    stores = locations.filter(pl.col("kind") == "store")
    assert stores["region"].n_unique() == 2
    assert stores["code"].sort().to_list()[:2] == ["ST-001", "ST-002"]
    items = frame(sessions, sa.select(Item.sku, Item.category))
    assert items.height == 60
    assert items["category"].n_unique() == 6
    with sessions() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(Supplier)) == 4
    assert (summary.stores, summary.dcs, summary.skus, summary.suppliers) == (10, 1, 60, 4)


def test_history_is_104_monday_weeks_ending_before_this_week(small_retailer: Retailer) -> None:
    sessions, summary = small_retailer
    weeks = frame(sessions, sa.select(WeeklySales.week).distinct())["week"].sort().to_list()
    assert len(weeks) == 104
    assert all(week.weekday() == 0 for week in weeks)
    assert weeks[-1] == date(2026, 11, 16)  # the week before the one containing TODAY
    assert weeks[-1] + timedelta(days=7) <= TODAY
    assert (summary.history_start, summary.history_end) == (weeks[0], weeks[-1])


def test_items_read_like_a_grocer_and_prices_match_across_channels(
    small_retailer: Retailer,
) -> None:
    sessions, _ = small_retailer
    items = frame(
        sessions,
        sa.select(
            Item.id,
            Item.sku,
            Item.name,
            Item.category,
            Item.department,
            Item.unit_cost,
            Item.regular_price,
            Item.status,
            Item.restricted,
            Item.promo_eligible,
        ),
    )
    assert items["sku"].str.contains(r"^SKU-\d{5}$").all()
    assert items["name"].str.contains(r"\d").all()  # every name carries a pack size
    margin = items["regular_price"].cast(pl.Float64) / items["unit_cost"].cast(pl.Float64)
    assert margin.min() >= 1.25
    assert margin.max() <= 1.9
    assert set(items["status"]) == {"active", "inactive", "discontinued"}
    restricted = items.filter(pl.col("restricted"))
    assert "Beer & Wine" in set(restricted["category"])
    assert not restricted["promo_eligible"].any()
    prices = frame(sessions, sa.select(Price.item_id, Price.channel, Price.amount))
    wide = prices.pivot(on="channel", index="item_id", values="amount")
    assert wide.height == 60
    assert (wide["pos"] == wide["ecommerce"]).all()


def test_ranging_and_positions_cover_what_each_location_sells(small_retailer: Retailer) -> None:
    sessions, _ = small_retailer
    ranging = frame(
        sessions,
        sa.select(Location.kind, Location.code, sa.func.count().label("items"))
        .join(Ranging, Ranging.location_id == Location.id)
        .group_by(Location.kind, Location.code),
    )
    share = ranging.with_columns(pl.col("items") / 60)
    stores = share.filter(pl.col("kind") == "store")["items"].to_numpy()
    assert stores.min() >= 0.75
    assert 0.83 <= stores.mean() <= 0.97
    assert share.filter(pl.col("kind") == "dc")["items"].to_list() == [1.0]
    assert 0.65 <= share.filter(pl.col("kind") == "ecommerce")["items"][0] <= 0.92
    with sessions() as session:
        ranged = session.scalar(sa.select(sa.func.count()).select_from(Ranging))
        positions = session.scalar(sa.select(sa.func.count()).select_from(InventoryPosition))
        stock = session.scalar(sa.select(sa.func.count()).select_from(SandboxStock))
    assert ranged == positions == stock


def test_store_stock_covers_two_to_six_weeks_and_dcs_hold_more(small_retailer: Retailer) -> None:
    sessions, _ = small_retailer
    positions = frame(
        sessions,
        sa.select(Location.kind, InventoryPosition.on_hand).join(
            Location, Location.id == InventoryPosition.location_id
        ),
    )
    by_kind = dict(positions.group_by("kind").agg(pl.col("on_hand").mean()).rows())
    assert by_kind["dc"] > 5 * by_kind["store"]
    # Weeks of cover against the recent sales rate of each store pair.
    recent = frame(
        sessions,
        sa.select(WeeklySales.item_id, WeeklySales.location_id, WeeklySales.units).where(
            WeeklySales.week >= date(2026, 10, 19), ~WeeklySales.on_promo
        ),
    )
    rate = recent.group_by("item_id", "location_id").agg(pl.col("units").mean().alias("rate"))
    stock = frame(
        sessions,
        sa.select(
            InventoryPosition.item_id, InventoryPosition.location_id, InventoryPosition.on_hand
        ),
    )
    cover = stock.join(rate.filter(pl.col("rate") >= 5), on=["item_id", "location_id"])
    weeks = (cover["on_hand"] / cover["rate"]).median()
    assert isinstance(weeks, float)
    assert 2.0 <= weeks <= 6.0


def _fingerprint(sessions: sessionmaker[Session]) -> tuple[object, ...]:
    items = frame(sessions, sa.select(Item.sku, Item.name, Item.unit_cost, Item.regular_price))
    sales = frame(
        sessions,
        sa.select(sa.func.count(), sa.func.sum(WeeklySales.units), sa.func.sum(WeeklySales.price)),
    )
    return items.sort("sku").rows(), tuple(round(float(v), 4) for v in sales.row(0))


def test_same_seed_gives_the_same_retailer(fresh_database: DatabaseFactory) -> None:
    first, second, other = fresh_database(), fresh_database(), fresh_database()
    for sessions, seed in ((first, 11), (second, 11), (other, 12)):
        generate(sessions, ScenarioSize.small(), seed=seed, today=TODAY)
    assert _fingerprint(first) == _fingerprint(second)
    assert _fingerprint(first) != _fingerprint(other)


def test_second_generation_leaves_the_database_alone(small_retailer: Retailer) -> None:
    sessions, summary = small_retailer
    again = generate(sessions, ScenarioSize.default(), seed=99)
    assert summary.created
    assert not again.created
    assert (again.skus, again.sales_rows, again.positions) == (
        summary.skus,
        summary.sales_rows,
        summary.positions,
    )
    with sessions() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(Item)) == 60


def test_master_data_only_size_writes_no_history(fresh_database: DatabaseFactory) -> None:
    sessions = fresh_database()
    size = ScenarioSize(stores=30, regions=3, dcs=2, skus=400, categories=8, with_history=False)
    summary = generate(sessions, size, seed=3, today=TODAY)
    assert summary.sales_rows == 0
    assert summary.history_end == date(2026, 11, 16)
    with sessions() as session:
        stores = session.scalar(
            sa.select(sa.func.count()).select_from(Location).where(Location.kind == "store")
        )
        positions = session.scalar(sa.select(sa.func.count()).select_from(InventoryPosition))
    assert stores == 30
    assert positions == summary.positions
    assert 0.8 * 31 * 400 < positions < 32 * 400 + 2 * 400


def test_sizes_out_of_range_name_the_field() -> None:
    with pytest.raises(InvalidInput, match="stores=0"):
        ScenarioSize(stores=0)
    with pytest.raises(InvalidInput, match="skus=60000"):
        ScenarioSize(skus=60_000)

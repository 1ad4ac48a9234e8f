"""DC-to-store allocation in whole case packs: obvious optima, the repair path, bad input."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
from scipy import stats

from promoflow.kit.errors import InvalidInput
from promoflow.planning.allocation import AllocationPlan, allocate_dc_stock


def demand(means: dict[tuple[int, int], float], **extra: list[float]) -> pl.DataFrame:
    """Poisson demand (no spread) per (item_id, location_id)."""
    keys = list(means)
    return pl.DataFrame(
        {
            "item_id": [i for i, _ in keys],
            "location_id": [j for _, j in keys],
            "promoted_units": list(means.values()),
            "p10": list(means.values()),
            "p90": list(means.values()),
            **extra,
        }
    )


TWO_BY_THREE = {
    (1, 11): 10.0, (1, 12): 1.0, (1, 13): 0.0,
    (2, 11): 0.0, (2, 12): 0.0, (2, 13): 8.0,
}  # fmt: skip
DC = pl.DataFrame({"item_id": [1, 2], "available": [12.0, 8.0], "case_pack": [6, 4]})


def stores(capacity: list[float] | None = None, cost: float = 0.01) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "location_id": [11, 12, 13],
            "capacity_units": capacity or [100.0, 100.0, 100.0],
            "transfer_cost_per_unit": [cost] * 3,
        }
    )


def packs(plan: AllocationPlan) -> dict[tuple[int, int], int]:
    return {(r["item_id"], r["location_id"]): r["packs"] for r in plan.lines.iter_rows(named=True)}


def test_scarce_packs_go_where_the_demand_is() -> None:
    plan = allocate_dc_stock(demand(TWO_BY_THREE), DC, stores())
    assert packs(plan) == {
        (1, 11): 2, (1, 12): 0, (1, 13): 0,
        (2, 11): 0, (2, 12): 0, (2, 13): 2,
    }  # fmt: skip
    assert plan.summary.method == "mip"
    assert plan.summary.status == "Optimal"
    assert plan.summary.gap == pytest.approx(0.0, abs=1e-6)
    assert plan.summary.units == 20.0


def test_store_capacity_sends_the_second_pack_elsewhere() -> None:
    plan = allocate_dc_stock(demand(TWO_BY_THREE), DC, stores(capacity=[6.0, 100.0, 100.0]))
    assert packs(plan)[(1, 11)] == 1
    assert packs(plan)[(1, 12)] == 1


def test_stock_already_in_store_is_not_sent_again() -> None:
    frame = demand(TWO_BY_THREE, available=[30.0, 0.0, 0.0, 0.0, 0.0, 0.0])
    plan = allocate_dc_stock(frame, DC, stores())
    assert packs(plan)[(1, 11)] == 0
    assert packs(plan)[(1, 12)] >= 1


def test_demand_below_half_a_case_pack_still_gets_a_pack() -> None:
    plan = allocate_dc_stock(
        demand({(1, 11): 3.0}),
        pl.DataFrame({"item_id": [1], "available": [24.0], "case_pack": [24]}),
        stores(),
    )
    assert packs(plan)[(1, 11)] == 1


def test_transfer_dearer_than_a_sale_keeps_stock_at_the_dc() -> None:
    plan = allocate_dc_stock(demand(TWO_BY_THREE), DC, stores(cost=1.5))
    assert plan.summary.packs == 0
    assert plan.lines["expected_filled_units"].sum() == 0.0


def test_lines_report_expected_fill_and_service_level() -> None:
    plan = allocate_dc_stock(demand(TWO_BY_THREE), DC, stores())
    row = plan.lines.filter(pl.col("item_id") == 2, pl.col("location_id") == 13).row(0, named=True)
    k = np.arange(200)
    filled = float((np.minimum(k, 8) * stats.poisson.pmf(k, 8.0)).sum())
    assert row["units"] == 8.0
    assert row["transfer_cost"] == pytest.approx(0.08)
    assert row["expected_filled_units"] == pytest.approx(filled, rel=1e-10)
    assert row["expected_service_level"] == pytest.approx(filled / 8.0, rel=1e-10)
    empty = plan.lines.filter(pl.col("item_id") == 1, pl.col("location_id") == 13).row(
        0, named=True
    )
    assert empty["expected_service_level"] == 1.0  # nothing asked, nothing missed


def random_instance(seed: int, n_items: int = 6, n_stores: int = 15) -> tuple[pl.DataFrame, ...]:
    rng = np.random.default_rng(seed)
    items, locs = np.arange(1, n_items + 1), np.arange(100, 100 + n_stores)
    mean = rng.gamma(2.0, 4.0, n_items * n_stores)
    spread = 2 * 1.2816 * np.sqrt(mean * rng.uniform(1.0, 3.0, mean.size))
    demand_frame = pl.DataFrame(
        {
            "item_id": np.repeat(items, n_stores),
            "location_id": np.tile(locs, n_items),
            "promoted_units": mean,
            "p10": np.maximum(mean - spread / 2, 0.0),
            "p90": np.maximum(mean - spread / 2, 0.0) + spread,
        }
    )
    dc = pl.DataFrame(
        {
            "item_id": items,
            "available": np.floor(rng.uniform(20, 60, n_items)) * 3,
            "case_pack": rng.choice([1, 3, 6], n_items),
        }
    )
    store_frame = pl.DataFrame(
        {
            "location_id": locs,
            "capacity_units": np.floor(rng.uniform(10, 40, n_stores)),
            "transfer_cost_per_unit": rng.uniform(0.01, 0.2, n_stores),
        }
    )
    return demand_frame, dc, store_frame


def assert_feasible(plan: AllocationPlan, dc: pl.DataFrame, store_frame: pl.DataFrame) -> None:
    by_item = plan.lines.group_by("item_id").agg(pl.col("units").sum()).join(dc, on="item_id")
    assert (by_item["units"] <= by_item["available"]).all()
    by_store = plan.lines.group_by("location_id").agg(pl.col("units").sum())
    by_store = by_store.join(store_frame, on="location_id")
    assert (by_store["units"] <= by_store["capacity_units"]).all()
    whole = plan.lines.join(dc, on="item_id")
    assert (whole["units"] == whole["packs"] * whole["case_pack"]).all()


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_lp_repair_is_feasible_and_close_to_the_mip(seed: int) -> None:
    demand_frame, dc, store_frame = random_instance(seed)
    exact = allocate_dc_stock(demand_frame, dc, store_frame)
    repaired = allocate_dc_stock(demand_frame, dc, store_frame, mip_max_columns=0)
    assert (exact.summary.method, repaired.summary.method) == ("mip", "lp_rounded")
    assert_feasible(exact, dc, store_frame)
    assert_feasible(repaired, dc, store_frame)
    # The LP bounds every whole-pack plan; the MIP is the best of them.
    assert repaired.summary.bound >= exact.summary.objective - 1e-6
    assert repaired.summary.objective <= exact.summary.objective + 1e-6
    assert repaired.summary.objective >= 0.97 * exact.summary.objective
    assert 0.0 <= repaired.summary.gap < 0.05
    assert repaired.summary.packs > 0


def test_negative_dc_stock_is_refused() -> None:
    with pytest.raises(InvalidInput) as raised:
        allocate_dc_stock(demand(TWO_BY_THREE), DC.with_columns(available=pl.lit(-5.0)), stores())
    assert (raised.value.field, raised.value.value) == ("available", -5.0)


@pytest.mark.parametrize("case_pack", [0, 2.5])
def test_case_pack_below_one_or_fractional_is_refused(case_pack: float) -> None:
    bad = DC.with_columns(case_pack=pl.lit(case_pack))
    with pytest.raises(InvalidInput) as raised:
        allocate_dc_stock(demand(TWO_BY_THREE), bad, stores())
    assert (raised.value.field, raised.value.value) == ("case_pack", case_pack)


def test_missing_column_is_named() -> None:
    with pytest.raises(InvalidInput) as raised:
        allocate_dc_stock(demand(TWO_BY_THREE), DC, stores().drop("capacity_units"))
    assert raised.value.field == "capacity_units"


def test_demand_for_a_sku_the_dc_does_not_hold_is_refused() -> None:
    frame = demand({**TWO_BY_THREE, (7, 11): 3.0})
    with pytest.raises(InvalidInput) as raised:
        allocate_dc_stock(frame, DC, stores())
    assert (raised.value.field, raised.value.value) == ("item_id", 7)


def test_a_store_listed_twice_is_refused() -> None:
    twice = pl.concat([stores(), stores().head(1)])
    with pytest.raises(InvalidInput) as raised:
        allocate_dc_stock(demand(TWO_BY_THREE), DC, twice)
    assert (raised.value.field, raised.value.value) == ("location_id", 11)


def test_with_stock_at_the_dc_every_store_reaches_the_p90_the_coverage_gate_reads() -> None:
    """The demo's clean launch (2026-12-07): 11 on the shelf, packs of 12, P90 23.2.

    One pack leaves 23 units, 0.99x the P90, and a second pack's expected extra sales
    (about half a unit) are worth less than moving it: on transfer economics alone the
    store stays short and the workflow's own launch waits at its coverage gate.
    """
    shelf = pl.DataFrame(
        {
            "item_id": [1],
            "location_id": [11],
            "promoted_units": [15.17],
            "p10": [8.6],
            "p90": [23.2],
            "available": [11.0],
        }
    )
    dc = pl.DataFrame({"item_id": [1], "available": [200.0], "case_pack": [12]})
    store = pl.DataFrame(
        {"location_id": [11], "capacity_units": [500.0], "transfer_cost_per_unit": [0.05]}
    )
    plan = allocate_dc_stock(shelf, dc, store)
    assert packs(plan) == {(1, 11): 2}
    assert 11.0 + plan.summary.units >= 23.2

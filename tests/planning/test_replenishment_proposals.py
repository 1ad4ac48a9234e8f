"""Purchase-order proposals: need, pack and MOQ rounding, lead time, supplier capacity."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import polars as pl
import pytest

from promoflow.kit.errors import InvalidInput
from promoflow.planning.replenishment import ReplenishmentPlan, propose_purchase_orders

TODAY = date(2026, 3, 2)
START = TODAY + timedelta(days=14)


def needs(*lines: dict[str, Any]) -> pl.DataFrame:
    """Need lines; each overrides a default of 100 P90, 10 safety, 30 + 20 stock, pack 12."""
    default = {
        "item_id": 1, "supplier_id": 7, "destination_id": 900, "p10": 60.0, "p50": 80.0,
        "p90": 100.0, "safety_stock": 10.0, "on_hand": 30.0, "on_order_due": 20.0,
        "case_pack": 12, "min_order_units": 0.0,
    }  # fmt: skip
    return pl.DataFrame([{**default, **line} for line in lines])


def suppliers(capacity: float = 10_000.0, lead_time_days: int = 7) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "supplier_id": [7, 8],
            "lead_time_days": [lead_time_days, 3],
            "weekly_capacity_units": [capacity, 10_000.0],
        }
    )


def propose(frame: pl.DataFrame, supplier_frame: pl.DataFrame | None = None, **kw: Any) -> Any:
    return propose_purchase_orders(
        frame, suppliers() if supplier_frame is None else supplier_frame,
        window_start=START, today=TODAY, **kw,
    )  # fmt: skip


def line(plan: ReplenishmentPlan, item_id: int) -> dict[str, Any]:
    return plan.proposals.filter(pl.col("item_id") == item_id).row(0, named=True)


def test_need_is_target_plus_safety_minus_stock_rounded_to_packs() -> None:
    plan = propose(needs({"item_id": 1}, {"item_id": 2, "case_pack": 24}))
    # 100 + 10 − (30 + 20) = 60: five packs of 12, or three of 24 (72).
    assert (line(plan, 1)["need_units"], line(plan, 1)["order_units"]) == (60.0, 60.0)
    assert (line(plan, 2)["packs"], line(plan, 2)["order_units"]) == (3, 72.0)
    assert plan.shortfalls.is_empty()


def test_minimum_order_quantity_is_met_in_whole_packs() -> None:
    plan = propose(needs({"min_order_units": 100.0}))
    assert line(plan, 1)["order_units"] == 108.0  # 100 rounded up to 9 packs of 12


def test_covered_lines_are_not_proposed() -> None:
    plan = propose(needs({"item_id": 1}, {"item_id": 2, "on_hand": 200.0, "min_order_units": 50}))
    assert plan.proposals["item_id"].to_list() == [1]


def test_the_target_quantile_is_a_parameter() -> None:
    plan = propose(needs({}), quantile="p50")
    assert line(plan, 1)["need_units"] == 40.0  # 80 + 10 − 50


def test_an_order_day_already_past_is_flagged_too_late_not_dropped() -> None:
    frame = needs({"item_id": 1}, {"item_id": 2, "supplier_id": 8})
    plan = propose(frame, suppliers(lead_time_days=20))
    late, in_time = line(plan, 1), line(plan, 2)
    assert (late["order_by"], late["too_late"]) == (START - timedelta(days=20), True)
    assert late["order_units"] == 60.0
    assert (in_time["order_by"], in_time["too_late"]) == (START - timedelta(days=3), False)


def test_capacity_is_shared_in_proportion_to_need_and_shortfalls_reported() -> None:
    frame = needs(
        {"item_id": 1, "p90": 141.0, "case_pack": 10},  # need 101, 110 in packs
        {"item_id": 2, "p90": 100.0, "case_pack": 10},  # need 60
        {"item_id": 3, "supplier_id": 8},  # another supplier: untouched
    )
    plan = propose(frame, suppliers(capacity=70.0))  # two weeks: 140 units
    first, second = line(plan, 1), line(plan, 2)
    # By need, not by the rounded orders: 140 x 101/161 = 87.8 -> 80; 140 x 60/161 = 52.2 -> 50.
    assert (first["order_units"], first["shortfall_units"]) == (80.0, 21.0)
    assert (second["order_units"], second["shortfall_units"]) == (50.0, 10.0)
    assert first["capacity_limited"] and not line(plan, 3)["capacity_limited"]
    assert line(plan, 3)["order_units"] == 60.0
    assert plan.shortfalls.select("item_id", "shortfall_units", "reason").rows() == [
        (1, 21.0, "supplier_capacity"),
        (2, 10.0, "supplier_capacity"),
    ]


def test_a_capacity_share_below_the_minimum_order_is_flagged() -> None:
    plan = propose(needs({"min_order_units": 60.0}), suppliers(capacity=20.0))  # 40 units
    row = line(plan, 1)
    assert (row["order_units"], row["below_min_order"], row["shortfall_units"]) == (
        36.0,
        True,
        24.0,
    )


def test_a_window_already_started_leaves_no_capacity() -> None:
    plan = propose_purchase_orders(needs({}), suppliers(), window_start=TODAY, today=TODAY)
    assert line(plan, 1)["order_units"] == 0.0
    assert plan.shortfalls["shortfall_units"].to_list() == [60.0]


def test_unknown_quantile_is_refused() -> None:
    with pytest.raises(InvalidInput) as raised:
        propose(needs({}), quantile="p95")
    assert (raised.value.field, raised.value.value) == ("quantile", "p95")


def test_supplier_missing_from_the_list_is_refused() -> None:
    with pytest.raises(InvalidInput) as raised:
        propose(needs({"supplier_id": 99}))
    assert (raised.value.field, raised.value.value) == ("supplier_id", 99)


@pytest.mark.parametrize(
    ("override", "field", "value"),
    [({"on_hand": -3.0}, "on_hand", -3.0), ({"case_pack": 0}, "case_pack", 0.0),
     ({"min_order_units": -1.0}, "min_order_units", -1.0)],
)  # fmt: skip
def test_bad_numbers_name_field_and_value(override: dict[str, Any], field: str, value: Any) -> None:
    with pytest.raises(InvalidInput) as raised:
        propose(needs(override))
    assert (raised.value.field, raised.value.value) == (field, value)


def test_missing_column_is_named() -> None:
    with pytest.raises(InvalidInput) as raised:
        propose(needs({}).drop("safety_stock"))
    assert raised.value.field == "safety_stock"

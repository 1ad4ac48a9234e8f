"""The counterfactual on a noiseless hand-made category: every effect is read back exactly."""

from __future__ import annotations

import math
from datetime import date, timedelta

import polars as pl
import pytest

from promoflow.postevent import financials
from promoflow.postevent.counterfactual import COMPARABLE, SEASONAL
from promoflow.postevent.financials import PromotionScope

FIRST = date(2024, 1, 1)
WEEKS = 110
LOCATIONS = {1: "North", 2: "North", 3: "South", 4: "South"}
LEVEL = {(item, loc): 10.0 * item + loc for item in (1, 2) for loc in LOCATIONS}
LIFT, KEPT_BY_SIBLING, KEPT_AFTER = 2.0, 0.9, 0.8


def season(week: int) -> float:
    return 1.0 + 0.3 * math.sin(2 * math.pi * week / 52)


def monday(week: int) -> date:
    return FIRST + timedelta(weeks=week)


def panel(promoted_weeks: range, region: str | None) -> pl.DataFrame:
    """Item 1 promoted in `region` (None: everywhere); item 2 is its category sibling."""
    rows = []
    for (item, loc), level in LEVEL.items():
        here = region is None or LOCATIONS[loc] == region
        for week in range(WEEKS):
            factor, on_promo = 1.0, False
            if here and week in promoted_weeks:
                on_promo = item == 1
                factor = LIFT if item == 1 else KEPT_BY_SIBLING
            elif here and item == 1 and week == promoted_weeks.stop:
                factor = KEPT_AFTER
            units = level * season(week) * factor
            price = 1.5 if on_promo else 2.0
            rows.append(
                (
                    item,
                    loc,
                    monday(week),
                    units,
                    price,
                    on_promo,
                    False,
                    f"SKU-{item}",
                    f"ST-{loc}",
                    LOCATIONS[loc],
                    1.0,
                    2.0,
                )
            )
    columns = [
        "item_id",
        "location_id",
        "week",
        "units",
        "price",
        "on_promo",
        "stockout",
        "sku",
        "location_code",
        "region",
        "unit_cost",
        "regular_price",
    ]
    return pl.DataFrame(rows, schema=columns, orient="row")


def scope(weeks: range, region: str | None) -> PromotionScope:
    return PromotionScope(
        "T-1",
        "Snacks",
        region,
        monday(weeks.start),
        monday(weeks.stop - 1),
        display=False,
        feature=False,
    )


@pytest.mark.parametrize(
    ("weeks", "region", "method"),
    [(range(60, 62), "North", COMPARABLE), (range(80, 82), None, SEASONAL)],
)
def test_a_noiseless_promotion_reads_back_its_lift_and_side_effects(
    weeks: range, region: str | None, method: str
) -> None:
    cells = financials.measure(panel(weeks, region), scope(weeks, region))
    figures = financials.figures(cells, scope(weeks, region), {"SKU-1": 0.25})
    promoted = cells.filter(pl.col("role") == "promoted")
    assert set(promoted["method"]) == {method}
    units = figures["units"]
    assert units["lift_pct"] == pytest.approx(100 * (LIFT - 1), abs=0.2)
    assert units["incremental"] == pytest.approx(units["baseline"] * (LIFT - 1), rel=1e-3)
    siblings = cells.filter(pl.col("role") == "sibling")
    assert units["cannibalised"] == pytest.approx(
        (1 - KEPT_BY_SIBLING) * siblings["baseline_units"].sum(), rel=1e-2
    )
    dip = cells.filter(pl.col("role") == "dip")
    assert units["pull_forward"] == pytest.approx(
        (1 - KEPT_AFTER) * dip["baseline_units"].sum(), rel=1e-2
    )
    assert units["halo"] == 0.0
    costs = figures["costs"]
    assert costs["markdown"] == pytest.approx(0.5 * units["sold"], abs=0.01)
    assert costs["vendor_funding_earned"] == pytest.approx(0.25 * units["sold"], abs=0.01)

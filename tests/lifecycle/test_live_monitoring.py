"""Sell-through watched while a promotion is live: anomalies raise one case per check."""

from __future__ import annotations

from collections.abc import Callable

import polars as pl
import pytest
import sqlalchemy as sa
from lifecycle_support import Planned, cases, desk_for, drive, make_planned, submit

from promoflow.allocation.policy import load_planning_policy
from promoflow.allocation.sell_through import find_anomalies
from promoflow.catalog.models import Item, Location
from promoflow.events.models import Event
from promoflow.kit.errors import Conflict
from promoflow.lifecycle import commands
from promoflow.runtime import Runtime
from promoflow.scenario.models import ScenarioDemandParams


def _surge(rt: Runtime, planned: Planned, factor: float) -> None:
    """Shoppers in the promotion's stores want `factor` x their usual (a viral post)."""
    with rt.sessions() as session, session.begin():
        items = sa.select(Item.id).where(Item.sku.in_(planned.skus))
        stores = sa.select(Location.id).where(
            Location.region == planned.region, Location.kind == "store"
        )
        session.execute(
            sa.update(ScenarioDemandParams)
            .where(
                ScenarioDemandParams.item_id.in_(items),
                ScenarioDemandParams.location_id.in_(stores),
            )
            .values(base_rate=ScenarioDemandParams.base_rate * factor)
        )


def _checks(rt: Runtime, promotion_id: int) -> list[dict[str, object]]:
    with rt.sessions() as session:
        rows = session.scalars(
            sa.select(Event.data)
            .where(
                Event.promotion_id == promotion_id,
                Event.type == "io.promoflow.sell_through.checked",
            )
            .order_by(Event.sequence)
        ).all()
    return [dict(row) for row in rows]


def test_selling_far_above_forecast_raises_one_case_that_says_expedite(
    rt: Runtime, done: Callable[[str], bool]
) -> None:
    planned = make_planned(rt, items=2, weeks_of_cover=4.0)
    # Forty times the usual demand empties the shelves within the first days, so every
    # line that will run hot already does at the first check.
    _surge(rt, planned, 40.0)
    try:
        # 150 business hours live at a check every 24: several checks at test speed.
        submit(planned, launch_lead_hours=40, live_hours=150)
        assert drive(planned, done, desk=desk_for(planned), timeout=120) == "closed"
    finally:
        _surge(rt, planned, 1 / 40.0)
    checks = _checks(rt, planned.promotion_id)
    assert len(checks) >= 2, checks
    assert checks[0]["new_anomalies"] > 0 and checks[0]["case_id"] is not None
    # Later checks still see the same lines running hot and open nothing new for them.
    assert all(c["anomalies"] > 0 and c["new_anomalies"] == 0 for c in checks[1:])
    assert [c["case_id"] for c in checks if c["case_id"] is not None] == [checks[0]["case_id"]]

    anomalies = cases(rt, planned.promotion_id, "sell_through_anomaly")
    assert len(anomalies) == 1
    case = anomalies[0]
    assert (case.owner_role, case.severity) == ("supply_chain_planner", "high")
    # The window is over: the alert no longer applies, and nobody can cancel from it.
    assert (case.status, case.resolution, case.resolved_by) == (
        "resolved",
        "promotion_ended",
        "system",
    )
    assert "no longer applies" in (case.resolution_reason or "")
    with pytest.raises(Conflict, match="only an open case"):
        commands.resolve_exception(
            case.id, "cancel_promotion", "ada.admin", "operations_admin", reason="too late"
        )
    assert case.linked["directions"] == ["above"]
    lines = case.linked["lines"]
    assert lines and {line["sku"] for line in lines} <= set(planned.skus)
    for line in lines:
        assert line["direction"] == "above"
        assert line["actual_units"] > line["expected_high"]
        # Every store of the region is short of the item: no store can spare stock.
        assert line["suggested_action"] == "expedite_replenishment"
    assert "above" in case.title and "expedite replenishment" in case.detail


def test_a_fast_store_is_fed_from_a_slow_one_and_a_slow_line_is_re_forecast() -> None:
    settings = load_planning_policy().sell_through
    forecast = pl.DataFrame(
        {
            "item_id": [1, 1, 2, 3],
            "location_id": [10, 11, 10, 10],
            "promoted_units": [10.0, 10.0, 40.0, 10.0],
            "p10": [5.0, 5.0, 30.0, 5.0],
            "p90": [15.0, 15.0, 50.0, 15.0],
        }
    )
    sold = pl.DataFrame(
        {"item_id": [1, 1, 2, 3], "location_id": [10, 11, 10, 10], "units": [20.0, 3.0, 2.0, 5.0]}
    )
    stock = pl.DataFrame(
        {
            "item_id": [1, 1, 2, 3],
            "location_id": [10, 11, 10, 10],
            "available": [20.0, 60.0, 40.0, 12.0],
        }
    )
    found = find_anomalies(forecast, sold, stock, share=0.5, settings=settings)
    rows = {(r["item_id"], r["location_id"]): r for r in found.iter_rows(named=True)}
    assert set(rows) == {(1, 10), (2, 10)}  # item 3 sells on pace; store 11 is slow, not alarming
    fast, slow = rows[(1, 10)], rows[(2, 10)]
    assert (fast["direction"], fast["suggested_action"]) == ("above", "transfer_between_stores")
    assert fast["transfer_from"] == [11]
    assert (slow["direction"], slow["suggested_action"]) == (
        "below",
        "re_forecast_and_check_display",
    )
    assert slow["expected_low"] == 15.0 and slow["actual_units"] == 2.0

"""Events of a real lifecycle run: catalogued and valid; sales reported -> sell-through checked."""

from __future__ import annotations

import time
from datetime import timedelta
from decimal import Decimal

import lifecycle_path  # noqa: F401  (puts the lifecycle helpers on the path)
import sqlalchemy as sa
from lifecycle_support import cases, desk_for, drive, make_planned, status_of, submit

from promoflow.catalog.models import Item, Location
from promoflow.connectors.ports import SalesRecord
from promoflow.events import cloudevents
from promoflow.events.catalogue import validate_data
from promoflow.events.inbound import report_sales
from promoflow.events.models import Event
from promoflow.kit.clock import utcnow
from promoflow.kit.db import transaction
from promoflow.lifecycle import commands
from promoflow.promotions.models import Promotion
from promoflow.runtime import Runtime, get_runtime
from promoflow.scenario.models import ScenarioDemandParams


def _done(status: str) -> bool:
    return status in ("closed", "rejected", "cancelled")


def test_every_event_of_a_lifecycle_run_is_catalogued_and_a_valid_cloudevent(
    seeded: object,
) -> None:
    rt = get_runtime()
    planned = submit(make_planned(rt, items=2))
    assert drive(planned, _done, desk=desk_for(planned)) == "closed"
    with rt.sessions() as session:
        events = session.scalars(sa.select(Event).order_by(Event.sequence)).all()
        recorded = [(e.as_cloudevent(), e.promotion_id) for e in events]
    ours = {e["type"] for e, promotion_id in recorded if promotion_id == planned.promotion_id}
    assert {"io.promoflow.promotion.live", "io.promoflow.gate.evaluated"} <= ours
    for event, _ in recorded:
        cloudevents.validate(event)
        validate_data(str(event["type"]), event["data"])


def _surge(rt: Runtime, skus: list[str], region: str, factor: float) -> None:
    with transaction(rt.sessions) as session:
        items = sa.select(Item.id).where(Item.sku.in_(skus))
        stores = sa.select(Location.id).where(Location.region == region, Location.kind == "store")
        session.execute(
            sa.update(ScenarioDemandParams)
            .where(
                ScenarioDemandParams.item_id.in_(items),
                ScenarioDemandParams.location_id.in_(stores),
            )
            .values(base_rate=ScenarioDemandParams.base_rate * factor)
        )


def _checks(rt: Runtime, promotion_id: int) -> list[Event]:
    with rt.sessions() as session:
        return list(
            session.scalars(
                sa.select(Event)
                .where(
                    Event.promotion_id == promotion_id,
                    Event.type == "io.promoflow.sell_through.checked",
                )
                .order_by(Event.sequence)
            ).all()
        )


def _wait_for(predicate: object, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():  # type: ignore[operator]
            return
        time.sleep(0.1)
    raise AssertionError("timed out")


def test_sales_reported_for_a_live_promotion_checks_its_sell_through_at_once(
    seeded: object,
) -> None:
    rt = get_runtime()
    planned = make_planned(rt, items=2, weeks_of_cover=4.0)
    _surge(rt, planned.skus, planned.region, 40.0)
    try:
        # Live for 5,000 business hours: the workflow's own first check is minutes away.
        submit(planned, launch_lead_hours=10, live_hours=5000)
        desk = desk_for(planned)
        drive(planned, lambda s: s == "live", desk=desk, timeout=90)
        # The stored window says 60 % has passed (day 4 of 7): what the reaction reads.
        with transaction(rt.sessions) as session:
            promotion = session.get(Promotion, planned.promotion_id)
            assert promotion is not None
            now = utcnow()
            promotion.timing = {
                **promotion.timing,
                "launch_at": (now - timedelta(seconds=60)).isoformat(),
                "end_at": (now + timedelta(seconds=40)).isoformat(),
            }
            store = session.scalar(
                sa.select(Location.code).where(
                    Location.region == planned.region, Location.kind == "store"
                )
            )
            assert store is not None
            start = promotion.start_date
            report_sales(
                session,
                [SalesRecord(planned.skus[0], store, start, 500.0, Decimal("999.50"))],
                "pos-feed",
            )
        assert _checks(rt, planned.promotion_id) == []
        _wait_for(lambda: _checks(rt, planned.promotion_id))
        check = _checks(rt, planned.promotion_id)[0]
        assert check.data["elapsed_days"] == 4 and check.data["window_days"] == 7
        assert check.data["new_anomalies"] > 0
        anomalies = cases(rt, planned.promotion_id, "sell_through_anomaly")
        assert [c.id for c in anomalies] == [check.data["case_id"]]

        # The same sales event delivered again (a relay crash) checks nothing twice.
        with rt.sessions() as session:
            reported = session.scalars(
                sa.select(Event).where(Event.type == "io.promoflow.sales.reported")
            ).all()[-1]
            again = reported.as_cloudevent()
        assert rt.bus is not None
        rt.bus.publish_batch([again])
        assert len(_checks(rt, planned.promotion_id)) == 1
    finally:
        _surge(rt, planned.skus, planned.region, 1 / 40.0)
        if status_of(planned.promotion_id)[0] == "live":
            commands.cancel_promotion(
                planned.promotion_id, "ada.admin", "operations_admin", "test over"
            )

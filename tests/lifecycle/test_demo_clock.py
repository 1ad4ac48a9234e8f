"""The demo clock: a compressed calendar takes a promotion from draft to closed in seconds,
while its approvers keep minutes to decide."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from lifecycle_support import Planned, desk_for, drive, make_planned, status_of, wait_until
from pydantic import ValidationError

from promoflow.approvals.models import ApprovalTask
from promoflow.config import Settings
from promoflow.kit.clock import utcnow
from promoflow.lifecycle import commands
from promoflow.lifecycle.report import promotion_report
from promoflow.lifecycle.timing import MIN_SLA_SECONDS_PER_HOUR, plan_timing
from promoflow.promotions import service as promotions_service
from promoflow.promotions.schemas import PromotionRevise
from promoflow.runtime import Runtime

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)  # a Monday noon


def test_a_compressed_clock_brings_launch_and_end_dates_closer_by_its_factor() -> None:
    start, end = NOW.date() + timedelta(days=3), NOW.date() + timedelta(days=5)
    timing = plan_timing(start, end, now=NOW, seconds_per_business_hour=3600, clock=1440)
    # Launch at midnight in 2.5 days, end at midnight after the last day, in 5.5 days:
    # at 1,440x a day lasts a minute.
    assert datetime.fromisoformat(timing.launch_at) == NOW + timedelta(minutes=2.5)
    assert datetime.fromisoformat(timing.end_at) == NOW + timedelta(minutes=5.5)
    assert timing.calendar_hours(24) == pytest.approx(60.0)
    # An hour of an SLA would last 2.5 s; it is held at the floor so people can act.
    assert timing.hours(8) == 8 * MIN_SLA_SECONDS_PER_HOUR == 240.0


def test_a_start_date_already_here_launches_at_once_on_a_compressed_clock() -> None:
    timing = plan_timing(
        NOW.date(), NOW.date(), now=NOW, seconds_per_business_hour=3600, clock=86_400
    )
    assert datetime.fromisoformat(timing.launch_at) == NOW
    assert datetime.fromisoformat(timing.end_at) == NOW + timedelta(seconds=0.5)


def test_the_real_clock_waits_for_the_real_dates() -> None:
    start = NOW.date() + timedelta(days=3)
    timing = plan_timing(start, start, now=NOW, seconds_per_business_hour=3600)
    assert timing.launch_at == "2026-12-10T00:00:00+00:00"
    assert timing.end_at == "2026-12-11T00:00:00+00:00"
    assert timing.hours(8) == 8 * 3600


@pytest.mark.parametrize("value", ["fast", "compressed:", "compressed:0.5", "compressed:1e9"])
def test_an_unknown_clock_is_refused_naming_the_setting_and_value(value: str) -> None:
    with pytest.raises(ValidationError) as refused:
        Settings(clock=value)
    assert "clock" in str(refused.value) and repr(value) in str(refused.value)


def _launch_in_days(planned: Planned, days: int, length: int) -> None:
    start = utcnow().date() + timedelta(days=days)
    changes = PromotionRevise(start_date=start, end_date=start + timedelta(days=length - 1))
    commands.revise_promotion(planned.promotion_id, changes, "mia.merch", "merchandiser")


def _timing(rt: Runtime, planned: Planned) -> dict[str, Any]:
    with rt.sessions() as session:
        return dict(promotions_service.get_promotion(session, planned.promotion_id).timing)


def test_on_a_compressed_clock_a_promotion_goes_live_ends_and_closes_within_seconds(
    rt: Runtime, done: Callable[[str], bool]
) -> None:
    planned = make_planned(rt, items=2)
    _launch_in_days(planned, days=3, length=2)  # live from day 3 to day 4
    saved = rt.settings
    rt.settings = saved.model_copy(update={"clock": "compressed:25000"})
    try:
        submitted = utcnow()
        planned.workflow_id = commands.submit_promotion(planned.promotion_id, "mia.merch")
    finally:
        rt.settings = saved
    # The workflow's first step stores the timing it was given (and checkpoints it).
    wait_until(lambda: bool(_timing(rt, planned)), "the submission")
    timing = _timing(rt, planned)
    launch_at = datetime.fromisoformat(timing["launch_at"])
    end_at = datetime.fromisoformat(timing["end_at"])
    # Two to three days out at 25,000x: about ten seconds; the end four days out.
    assert timedelta(seconds=5) < launch_at - submitted < timedelta(seconds=11)
    assert end_at - launch_at == timedelta(days=2) / 25_000

    desk = desk_for(planned)
    # Every gate passed before the launch date: the status says what it waits for.
    wait_until(
        lambda: "waiting for the launch date" in status_of(planned.promotion_id)[1],
        "the wait for the launch date",
        desk=desk,
        timeout=90,
    )
    assert status_of(planned.promotion_id)[0] == "scheduled"
    drive(planned, lambda s: s == "live", desk=desk, timeout=90)
    assert utcnow() >= launch_at  # not a moment before its (compressed) launch date
    assert drive(planned, done, desk=desk, timeout=60) == "closed"
    assert utcnow() >= end_at

    with rt.sessions() as session:
        report = promotion_report(
            session,
            promotions_service.get_promotion(session, planned.promotion_id),
            currency=rt.settings.currency,
        )
    # The approver's SLA was compressed only to the floor: minutes, not a fraction of a second.
    with rt.sessions() as session:
        tasks = session.scalars(
            sa.select(ApprovalTask).where(ApprovalTask.promotion_id == planned.promotion_id)
        ).all()
    assert tasks
    for task in tasks:
        lasts = (task.due_at - task.created_at).total_seconds()
        assert lasts == pytest.approx(task.sla_hours * MIN_SLA_SECONDS_PER_HOUR, abs=1)
    states = [step["state"] for step in report["timeline"]]
    assert states[-5:] == ["publishing", "live", "ended", "analysed", "closed"]
    assert status_of(planned.promotion_id)[0] == "closed"

"""Launch against plan per channel and store, and the gates as they stood at launch."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import polars as pl

from promoflow.execution.schemas import ChannelLaunch, GateAtLaunch, Readiness, StoreLaunch
from promoflow.gates.models import GateResult, GateWaiver
from promoflow.gates.schemas import GateStatus
from promoflow.publications.models import Publication, StoreTask
from promoflow.publications.schemas import PublicationStatus, StoreTaskStatus

# Which channel puts the promotion in front of a location's shoppers.
CHANNEL_OF_KIND = {"store": "pos", "ecommerce": "ecommerce"}


def _utc(moment: datetime | None) -> datetime | None:
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=UTC)


def _late_hours(planned: datetime | None, actual: datetime | None) -> float | None:
    if planned is None or actual is None:
        return None
    return round((actual - planned).total_seconds() / 3600.0, 2)


def channel_launches(publications: Sequence[Publication], planned: datetime) -> list[ChannelLaunch]:
    """Each channel's planned launch against when its publication went out (None if not)."""
    launches = []
    for publication in publications:
        actual = (
            _utc(publication.published_at)
            if publication.status == PublicationStatus.PUBLISHED
            else None
        )
        launches.append(
            ChannelLaunch(
                channel=publication.channel,
                status=publication.status,
                planned_launch=planned,
                actual_launch=actual,
                late_hours=_late_hours(planned, actual),
                attempts=publication.attempts,
                last_error=publication.last_error,
            )
        )
    return launches


def store_launches(
    locations: pl.DataFrame,
    channels: list[ChannelLaunch],
    tasks: Sequence[StoreTask],
    planned: datetime,
    publishing: datetime,
) -> list[StoreLaunch]:
    """Each target location: its channel's launch and its tasks confirmed by then.

    A store is ready at launch when every readiness task it was given was confirmed
    before its channel went out (before publishing began, when it never went out).
    """
    by_channel = {launch.channel: launch for launch in channels}
    launches = []
    for location_id, code, kind in locations.iter_rows():
        channel = CHANNEL_OF_KIND.get(kind, "pos")
        launch = by_channel.get(channel)
        actual = launch.actual_launch if launch is not None else None
        deadline = actual or publishing
        own = [task for task in tasks if task.location_id == location_id]
        confirmed = [
            task
            for task in own
            if task.status == StoreTaskStatus.CONFIRMED
            and task.confirmed_at is not None
            and _utc(task.confirmed_at) <= deadline  # type: ignore[operator]
        ]
        launches.append(
            StoreLaunch(
                store=code,
                channel=channel,
                planned_launch=planned if launch is not None else None,
                actual_launch=actual,
                late_hours=_late_hours(planned, actual),
                tasks=len(own),
                tasks_confirmed_by_launch=len(confirmed),
                ready_at_launch=len(confirmed) == len(own),
            )
        )
    return launches


def readiness_at_launch(
    results: Sequence[GateResult], waivers: Sequence[GateWaiver], publishing: datetime
) -> Readiness:
    """The newest gate round evaluated by the time publishing began (the last round when
    every one came later); a blocking gate is ready only if it passed unwaived."""
    rounds: dict[int, list[GateResult]] = {}
    for result in results:
        rounds.setdefault(result.evaluation, []).append(result)
    before = [n for n, rows in rounds.items() if _utc(rows[0].evaluated_at) <= publishing]  # type: ignore[operator]
    chosen = max(before) if before else max(rounds, default=None)
    if chosen is None:
        return Readiness(
            evaluation=None, evaluated_at=None, fully_ready=False, not_ready=["no gate round"],
            gates=[],
        )  # fmt: skip
    gates = [_gate(row, waivers, publishing) for row in rounds[chosen]]
    not_ready = [gate.gate for gate in gates if not gate.ready]
    return Readiness(
        evaluation=chosen,
        evaluated_at=_utc(rounds[chosen][0].evaluated_at),
        fully_ready=not not_ready,
        not_ready=not_ready,
        gates=gates,
    )


def _gate(row: GateResult, waivers: Sequence[GateWaiver], publishing: datetime) -> GateAtLaunch:
    waiver = next(
        (
            w
            for w in reversed(waivers)
            if w.gate == row.gate and _utc(w.waived_at) <= publishing  # type: ignore[operator]
        ),
        None,
    )
    waived = row.status == GateStatus.WAIVED
    return GateAtLaunch(
        gate=row.gate,
        status=row.status,
        blocking=row.blocking,
        ready=row.status == GateStatus.PASS or (not row.blocking and not waived),
        waived_by=row.waived_by or (waiver.waived_by if waived and waiver else None),
        waiver_role=waiver.role if waived and waiver else None,
        waiver_reason=row.waiver_reason or (waiver.reason if waived and waiver else None),
    )

"""When a promotion's lifecycle waits, in wall-clock seconds.

Chosen once at submission and stored on the promotion (and passed to its workflow,
which checkpoints it), so the workflow's durable timers, the UI and the report agree,
and a recovered workflow keeps the deadlines it started with.

Two clocks (`PROMOFLOW_CLOCK`, see docs/demo-clock.md):

- `real` (the default): launch waits for the real start date and the promotion ends
  after its real end date; one business hour of an SLA lasts
  `PROMOFLOW_SECONDS_PER_BUSINESS_HOUR` (3,600 s in production).
- `compressed:<factor>`: calendar time runs `factor` times faster from the moment of
  submission, so launch and end dates come `factor` times sooner. SLAs are compressed
  by the same factor but never below `MIN_SLA_SECONDS_PER_HOUR` per business hour, so
  an approver still has minutes to act.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

REAL_CLOCK = "real"
CLOCK_PATTERN = re.compile(r"^(?:real|compressed:(?P<factor>[0-9]+(?:\.[0-9]+)?))$")
MAX_CLOCK_FACTOR = 1_000_000.0  # a year in about 30 s
# Under a compressed clock one business hour of an SLA lasts at least this long: an
# 8 h pricing SLA escalates after 4 minutes, a 24 h expiry comes after 12.
MIN_SLA_SECONDS_PER_HOUR = 30.0
HOUR = 3600.0


def clock_factor(setting: str) -> float:
    """Calendar seconds per wall-clock second: 1 for `real`, F for `compressed:F`."""
    found = CLOCK_PATTERN.match(setting.strip())
    if found is None:
        raise ValueError(f"clock must be 'real' or 'compressed:<factor>', got {setting!r}")
    if found["factor"] is None:
        return 1.0
    factor = float(found["factor"])
    if not 1.0 <= factor <= MAX_CLOCK_FACTOR:
        raise ValueError(
            f"clock factor must be between 1 and {MAX_CLOCK_FACTOR:,.0f}, got {setting!r}"
        )
    return factor


@dataclass(frozen=True)
class LifecycleTiming:
    seconds_per_business_hour: float
    launch_at: str  # ISO timestamp: when publication may start at the earliest
    end_at: str  # ISO timestamp: when the promotion ends
    gate_recheck_seconds: float  # re-evaluate gates at least this often while blocked
    operator_wait_seconds: float  # how long an exception waits before re-alerting
    # Wall-clock seconds per calendar hour (check cadences, supplier deadlines); None
    # means the business hour (the real clock, and timings recorded before this field).
    seconds_per_calendar_hour: float | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> LifecycleTiming:
        return cls(**data)

    def hours(self, business_hours: float) -> float:
        """Wall-clock seconds for a number of business hours (a person's SLA)."""
        return business_hours * self.seconds_per_business_hour

    def calendar_hours(self, hours: float) -> float:
        """Wall-clock seconds for a number of calendar hours (a cadence, a supplier's time)."""
        per_hour = self.seconds_per_calendar_hour
        return hours * (self.seconds_per_business_hour if per_hour is None else per_hour)


def plan_timing(
    start: date,
    end: date,
    *,
    now: datetime,
    seconds_per_business_hour: float,
    launch_lead_hours: float | None = None,
    live_hours: float | None = None,
    clock: float = 1.0,
) -> LifecycleTiming:
    """Timing for a promotion submitted at `now`.

    `clock` is the calendar's speed-up (`clock_factor`); above 1 it replaces
    `seconds_per_business_hour` (see the module docstring). The lead/live overrides
    count hours from submission and from launch instead of the dates.
    """
    if clock > 1.0:
        return _compressed(start, end, now, clock, launch_lead_hours, live_hours)
    if launch_lead_hours is None:
        launch_at = datetime.combine(start, time.min, tzinfo=UTC)
    else:
        launch_at = now + timedelta(seconds=launch_lead_hours * seconds_per_business_hour)
    if live_hours is None:
        end_at = datetime.combine(end + timedelta(days=1), time.min, tzinfo=UTC)
    else:
        end_at = launch_at + timedelta(seconds=live_hours * seconds_per_business_hour)
    return LifecycleTiming(
        seconds_per_business_hour=seconds_per_business_hour,
        launch_at=launch_at.isoformat(),
        end_at=end_at.isoformat(),
        gate_recheck_seconds=max(0.2, 4 * seconds_per_business_hour),
        operator_wait_seconds=max(1.0, 24 * seconds_per_business_hour),
    )


def _compressed(
    start: date,
    end: date,
    now: datetime,
    factor: float,
    launch_lead_hours: float | None,
    live_hours: float | None,
) -> LifecycleTiming:
    """Dates `factor` times closer to `now`; SLAs as fast but no faster than the floor."""
    calendar_hour = HOUR / factor
    sla_hour = max(calendar_hour, MIN_SLA_SECONDS_PER_HOUR)

    def compress(moment: datetime) -> datetime:
        return now + max(moment - now, timedelta(0)) / factor

    if launch_lead_hours is None:
        launch_at = compress(datetime.combine(start, time.min, tzinfo=UTC))
    else:
        launch_at = now + timedelta(seconds=launch_lead_hours * calendar_hour)
    if live_hours is None:
        end_at = compress(datetime.combine(end + timedelta(days=1), time.min, tzinfo=UTC))
    else:
        end_at = launch_at + timedelta(seconds=live_hours * calendar_hour)
    return LifecycleTiming(
        seconds_per_business_hour=sla_hour,
        launch_at=launch_at.isoformat(),
        end_at=max(end_at, launch_at).isoformat(),
        gate_recheck_seconds=max(0.2, 4 * calendar_hour),
        operator_wait_seconds=max(1.0, 24 * sla_hour),
        seconds_per_calendar_hour=calendar_hour,
    )

"""When a promotion's lifecycle waits, in wall-clock seconds.

Chosen once at submission and stored on the promotion, so the workflow's
durable timers, the UI and the report agree. In production one business hour is
3,600 s and launch waits for the real start date; the demo compresses time.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any


@dataclass(frozen=True)
class LifecycleTiming:
    seconds_per_business_hour: float
    launch_at: str  # ISO timestamp: when publication may start at the earliest
    end_at: str  # ISO timestamp: when the promotion ends
    gate_recheck_seconds: float  # re-evaluate gates at least this often while blocked
    operator_wait_seconds: float  # how long an exception waits before re-alerting

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> LifecycleTiming:
        return cls(**data)

    def hours(self, business_hours: float) -> float:
        """Wall-clock seconds for a number of business hours."""
        return business_hours * self.seconds_per_business_hour


def plan_timing(
    start: date,
    end: date,
    *,
    now: datetime,
    seconds_per_business_hour: float,
    launch_lead_hours: float | None = None,
    live_hours: float | None = None,
) -> LifecycleTiming:
    """Timing for a promotion; the lead/live overrides compress time for the demo."""
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

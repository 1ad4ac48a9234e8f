"""What execution variance answers: planned against actual, per channel, store and line."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field


class ChannelLaunch(BaseModel):
    """One channel's planned and actual launch."""

    channel: str
    status: str
    planned_launch: datetime | None
    actual_launch: datetime | None
    late_hours: float | None = Field(description="actual − planned; negative when early")
    attempts: int
    last_error: str = ""


class StoreLaunch(BaseModel):
    """One store's launch: its channel's publication and its readiness tasks by then."""

    store: str
    channel: str
    planned_launch: datetime | None
    actual_launch: datetime | None
    late_hours: float | None
    tasks: int
    tasks_confirmed_by_launch: int
    ready_at_launch: bool


class GateAtLaunch(BaseModel):
    """One gate in the round in force when publishing began."""

    gate: str
    status: str
    blocking: bool
    ready: bool = Field(description="passed without a waiver (or does not block)")
    waived_by: str | None = None
    waiver_role: str | None = None
    waiver_reason: str | None = None


class Readiness(BaseModel):
    """Whether the promotion launched fully ready: every blocking gate passed unwaived."""

    evaluation: int | None
    evaluated_at: datetime | None
    fully_ready: bool
    not_ready: list[str]
    gates: list[GateAtLaunch]


class LineVariance(BaseModel):
    """One item x store: forecast against actual lift, allocation against sell-through."""

    sku: str
    store: str
    baseline_units: float = Field(description="no-promotion forecast over the days covered")
    forecast_units: float
    actual_units: float
    forecast_lift_pct: float | None
    actual_lift_pct: float | None
    lift_gap_pts: float | None = Field(description="actual − forecast lift, percentage points")
    within_p10_p90: bool
    allocated_units: float
    stock_units: float = Field(description="stock for the event: at the store + allocated")
    sell_through: float | None = Field(description="actual units over stock for the event")
    stockout_weeks: int
    weeks: int


class VarianceTotals(BaseModel):
    """The whole promotion's figures."""

    forecast_units: float
    actual_units: float
    baseline_units: float
    forecast_lift_pct: float | None
    actual_lift_pct: float | None
    allocated_units: float
    stock_units: float
    sell_through: float | None
    item_stores: int
    item_stores_with_stockout: int
    stockout_weeks: int
    item_store_weeks: int


class ExecutionVariance(BaseModel):
    """Planned against actual for one launched promotion revision."""

    promotion: str
    promotion_id: int
    revision: int
    status: str
    window: str
    actuals_through: str = Field(description="last day of sales counted")
    days_covered: int
    window_days: int
    forecast_model: str | None
    channels: list[ChannelLaunch]
    stores: list[StoreLaunch]
    readiness: Readiness
    totals: VarianceTotals
    lines: list[LineVariance]

"""What the console's pages read: pydantic read models, frozen, one per page section.

Amounts are `Money`: a Decimal and a currency the caller names (the console knows its
configured ISO 4217 code; these read models leave it as given, None when not).
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True)


class Money(_Frozen):
    amount: Decimal
    currency: str | None = None


class Readiness(StrEnum):
    """The launch gates of the current revision, as its newest round judged them."""

    ALL_PASSED = "all_passed"  # every blocking gate passed or waived
    SOME_FAILING = "some_failing"  # a blocking gate failed (advisory failures do not count)
    NOT_EVALUATED = "not_evaluated"  # no round for this revision yet


class RiskReason(StrEnum):
    FAILING_GATES = "failing_gates"
    STOCKOUT_RISK = "high_stockout_risk"  # share of demand lost above the gate's threshold
    LATE_SUPPLIER_ACK = "late_supplier_ack"  # a PO not acknowledged by its due time


class DecisionKind(StrEnum):
    APPROVAL = "approval"
    CASE = "case"


class CalendarBy(StrEnum):
    CATEGORY = "category"
    REGION = "region"


class PromotionContext(_Frozen):
    """What someone deciding about a promotion needs to see beside the decision."""

    promotion_id: int
    code: str
    name: str
    state: str
    mechanic: str
    start_date: date
    end_date: date
    depth: float = Field(description="deepest discount in scope, 0 to 1 (0.25 = 25 % off)")
    forecast_uplift_pct: float | None = Field(description="promoted vs baseline units, in %")
    margin_impact: Decimal | None = Field(description="promotion vs doing nothing")
    risk: str = Field(description="stock risk: low, medium, high or unknown (no forecast)")


class SlaClock(_Frozen):
    """When a decision is due and how far `now` is from it (one of the two is 0)."""

    due_at: datetime
    overdue: bool
    remaining_seconds: int
    overdue_seconds: int


class Decision(_Frozen):
    """An open approval task or exception case waiting for the role."""

    kind: DecisionKind
    id: int  # the approval task's or the case's id
    title: str
    role: str  # the role expected to act (assigned role, or the case's owner)
    severity: str | None  # cases only
    case_kind: str | None  # cases only
    sla: SlaClock
    context: PromotionContext | None  # None: a case of no promotion


class PromotionRef(_Frozen):
    promotion_id: int
    code: str
    name: str
    state: str
    start_date: date
    end_date: date


class AtRisk(_Frozen):
    """A promotion launching within the week (or live) with something against it."""

    promotion: PromotionRef
    reasons: list[RiskReason]
    failing_gates: list[str]
    stockout_share: float | None  # expected share of demand lost (the gate's score)
    stockout_threshold: float | None
    late_purchase_orders: list[str]


class OffPace(_Frozen):
    """A live promotion whose sales so far fall outside the forecast's P10-P90, pro rata."""

    promotion: PromotionRef
    direction: str  # "above" or "below"
    elapsed_share: float
    units_sold: float
    expected_low: float
    expected_units: float
    expected_high: float
    checked_at: datetime


class MoneyAtStake(_Frozen):
    """Incremental revenue and margin of promotions launching within `horizon_days`.

    Per forecast line: incremental units (promoted - baseline) x promo price, and x
    (promo price - unit cost + vendor funding per unit) for the margin.
    """

    horizon_days: int
    promotions: int
    incremental_revenue: Money
    incremental_margin: Money
    at_risk_promotions: int
    at_risk_incremental_revenue: Money
    at_risk_incremental_margin: Money


class TodayView(_Frozen):
    role: str
    now: datetime
    decisions: list[Decision]
    at_risk: list[AtRisk]
    off_pace: list[OffPace]
    money: MoneyAtStake


class CalendarEntry(_Frozen):
    promotion_id: int
    code: str
    name: str
    state: str
    readiness: Readiness
    start_date: date
    end_date: date
    overlap: bool  # shares this week and an item or category with another in the row


class CalendarCell(_Frozen):
    week: str  # ISO week, "2026-W47"
    entries: list[CalendarEntry]
    overlap: bool


class CalendarRow(_Frozen):
    key: str  # the category or the region
    cells: list[CalendarCell]  # one per week of the calendar, in order


class CalendarView(_Frozen):
    by: CalendarBy
    weeks: list[str]
    week_starts: list[date]
    rows: list[CalendarRow]


class SearchFilters(_Frozen):
    """Every filter is optional; given ones combine (AND)."""

    state: str | None = None
    category: str | None = None
    region: str | None = None
    banner: str | None = None
    launch_from: date | None = None
    launch_to: date | None = None
    at_risk: bool | None = None
    text: str | None = Field(default=None, description="part of the code or the name")


class PromotionRow(_Frozen):
    promotion_id: int
    code: str
    name: str
    state: str
    mechanic: str
    depth: float | None
    start_date: date
    end_date: date
    categories: list[str]
    regions: list[str]
    readiness: Readiness
    at_risk: bool


class SearchPage(_Frozen):
    rows: list[PromotionRow]
    next_cursor: str | None  # pass back as `cursor` for the next page; None: last page


class TimelineEntry(_Frozen):
    at: datetime
    kind: str  # the event type without its prefix: gate.evaluated, approval.decided, ...
    actor: str
    summary: str
    detail: dict[str, object]


class Timeline(_Frozen):
    promotion: PromotionRef
    entries: list[TimelineEntry]


class ForecastPoint(_Frozen):
    week: str
    week_start: date
    baseline: float
    promoted: float
    p10: float
    p50: float
    p80: float
    p90: float


class StoreForecast(_Frozen):
    location_code: str
    region: str
    points: list[ForecastPoint]


class ForecastSeries(_Frozen):
    """The current revision's forecast spread over the window's ISO weeks.

    Stored forecasts are window totals per item x store; a week gets the share of the
    window's days that fall in it (the model's own weekly weights are not kept).
    Quantiles are sums of the lines' quantiles: a wider band than the total's own.
    """

    promotion: PromotionRef
    revision: int
    model_versions: list[str]
    total: list[ForecastPoint]
    stores: list[StoreForecast]


class HeatCell(_Frozen):
    region: str
    category: str
    item_locations: int
    max_probability: float
    mean_probability: float


class StockoutHeatmap(_Frozen):
    promotion: PromotionRef
    regions: list[str]
    categories: list[str]
    cells: list[HeatCell]
    problem: str | None  # why there is no map (no forecast yet), else None

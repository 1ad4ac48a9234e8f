"""What a what-if answers: one row of figures per variant, and which model gave them."""

from __future__ import annotations

from pydantic import BaseModel, Field

from promoflow.kit.money import MoneyAmount


class AnsweringModel(BaseModel):
    """Which forecaster answered, and why it was that one."""

    model_version: str
    source: str = Field(description="champion, or history_baseline when there is no usable one")
    note: str = ""


class VariantOutcome(BaseModel):
    """Forecast, money and stock risk of one set of terms over the draft's whole scope."""

    depth_percent: float
    mechanic: str
    display: bool
    feature: bool
    is_draft: bool = Field(description="these are the draft's own terms")
    units_p50: float = Field(description="sum of the item x store P50s over the window")
    units_p10: float
    units_p90: float
    baseline_units: float = Field(description="forecast without the promotion")
    uplift_units: float
    uplift_pct: float | None
    expected_sold_units: float = Field(description="expected sales, capped by the stock")
    revenue: MoneyAmount
    promoted_margin: MoneyAmount = Field(
        description="margin on expected sales, with vendor funding"
    )
    baseline_margin: MoneyAmount
    incremental_margin: MoneyAmount
    available_units: float = Field(description="stock at the stores by the start date")
    stockout_probability_mean: float
    stockout_probability_max: float
    item_stores_likely_out: int = Field(description="item x stores more likely out than not")
    expected_lost_units: float
    expected_left_units: float = Field(description="stock expected left after the window")
    leftover_share: float | None = Field(description="expected left units over available stock")
    overstock_weeks: float = Field(description="weeks of normal sales the leftover stock covers")
    warnings: list[str] = Field(default_factory=list)


class WhatIfAnswer(BaseModel):
    """The variants of one draft promotion, by mechanic, depth, display and feature."""

    promotion: str
    promotion_id: int
    currency: str
    window: str
    items: int
    stores: int
    answered_by: AnsweringModel
    variants: list[VariantOutcome]

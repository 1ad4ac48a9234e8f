"""The forecaster interface the gates, risk and allocation depend on."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Protocol

import polars as pl


@dataclass(frozen=True)
class PromotionScenario:
    """What the forecaster needs to know about a planned promotion."""

    item_ids: list[int]
    location_ids: list[int]
    start: date
    end: date
    mechanic: str
    discount_depth: float  # effective fraction off regular price, 0..1
    display: bool
    feature: bool


class DemandForecaster(Protocol):
    """Forecasts demand for item x location over a promotion window.

    `forecast` returns one row per item x location with columns:
    item_id, location_id, baseline_units (no promotion), promoted_units (with it),
    p10, p50, p90 (quantiles of promoted demand over the whole window).
    """

    model_version: str
    history_weeks: int  # how many weeks of sales before the window it reads

    def forecast(self, history: pl.DataFrame, scenario: PromotionScenario) -> pl.DataFrame:
        """Forecast the window; `history` has the columns of the weekly_sales table."""
        ...

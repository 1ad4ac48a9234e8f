"""What crosses the forecasting package's boundary: vocabularies and returned summaries."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import polars as pl


class ModelStatus(StrEnum):
    """Where a registered model version stands: one champion per kind at a time."""

    CANDIDATE = "candidate"
    CHAMPION = "champion"
    RETIRED = "retired"


MODEL_STATUSES: tuple[str, ...] = tuple(status.value for status in ModelStatus)

# The columns of sales history as forecasters read it (weekly sales with the category).
HISTORY_SCHEMA: dict[str, pl.DataType] = {
    "item_id": pl.Int64(),
    "location_id": pl.Int64(),
    "week": pl.Date(),
    "units": pl.Float64(),
    "price": pl.Float64(),
    "on_promo": pl.Boolean(),
    "mechanic": pl.String(),
    "display": pl.Boolean(),
    "feature": pl.Boolean(),
    "stockout": pl.Boolean(),
    "category": pl.String(),
}


@dataclass(frozen=True)
class ForecastSummary:
    """Totals of one stored forecast, for the workflow, the UI and the event log."""

    promotion_id: int
    revision: int
    model_version: str
    inputs_hash: str
    lines: int
    baseline_units: float
    promoted_units: float
    uplift_pct: float
    p90_units: float


@dataclass(frozen=True)
class ModelAccuracy:
    """Post-event accuracy of one model version over every promotion recorded for it."""

    model_version: str
    promotions: int
    lines: int
    forecast_units: float
    actual_units: float
    wape: float | None
    bias: float | None
    coverage_p10_p90: float | None

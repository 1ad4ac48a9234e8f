"""Renamed `forecasting.models` (issue 11); kept for `promoflow.schema`, which imports it."""

from __future__ import annotations

from promoflow.forecasting.models import (
    ModelArtifact,
    ModelVersion,
    PromotionForecastAccuracy,
    model_scores,
)
from promoflow.forecasting.schemas import MODEL_STATUSES

__all__ = [
    "MODEL_STATUSES",
    "ModelArtifact",
    "ModelVersion",
    "PromotionForecastAccuracy",
    "model_scores",
]

"""The forecasting tables: the model registry, fitted artifacts, post-event accuracy.

(The forecast lines themselves are `promotions.models.ForecastLine`: they belong to
the promotion revision they describe.)
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from promoflow.forecasting.schemas import MODEL_STATUSES  # noqa: F401  (re-exported)
from promoflow.kit.db import Base
from promoflow.kit.types import JsonDict, JsonList, Timestamp, UtcDateTime

# The partial index's predicate (DDL, not a query): `status = 'champion'`.
_IS_CHAMPION = sa.column("status") == "champion"


class ModelVersion(Base):
    """One trained forecasting model with its training window, data hash and backtest."""

    __tablename__ = "model_versions"

    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[str] = mapped_column(sa.String(64), unique=True)
    kind: Mapped[str] = mapped_column(sa.String(32), default="demand", index=True)
    status: Mapped[str] = mapped_column(sa.String(16), default="candidate")
    # Text, not dates: a retailer's periods may be dates or integer period numbers.
    training_start: Mapped[str] = mapped_column(sa.String(32))
    training_end: Mapped[str] = mapped_column(sa.String(32))
    features: Mapped[JsonList]
    data_hash: Mapped[str] = mapped_column(sa.String(64))
    # The backtest's metrics.json as written ("data" summary, "models" with each
    # model's wape, wape_promo, ...); `backtest_model` names this version's entry.
    backtest_metrics: Mapped[JsonDict]
    backtest_model: Mapped[str] = mapped_column(sa.String(64))
    backtest_cutoff: Mapped[str] = mapped_column(sa.String(32))
    backtest_horizon: Mapped[int | None]
    parameters: Mapped[JsonDict]
    registered_by: Mapped[str] = mapped_column(sa.String(80), default="system")
    created_at: Mapped[Timestamp]
    promoted_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    promoted_by: Mapped[str | None] = mapped_column(sa.String(80))
    approved_by: Mapped[str | None] = mapped_column(sa.String(80))
    approver_role: Mapped[str | None] = mapped_column(sa.String(40))
    policy_version: Mapped[str | None] = mapped_column(sa.String(32))
    retired_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    retired_by: Mapped[str | None] = mapped_column(sa.String(80))
    # Why the latest promotion or retirement happened, in the decider's words.
    status_reason: Mapped[str] = mapped_column(sa.Text, default="")
    notes: Mapped[str] = mapped_column(sa.Text, default="")

    __table_args__ = (
        sa.CheckConstraint("status IN ('candidate','champion','retired')", name="status"),
        # One champion per kind, even when two promotions race.
        sa.Index(
            "uq_model_versions_one_champion_per_kind",
            "kind",
            unique=True,
            sqlite_where=_IS_CHAMPION,
            postgresql_where=_IS_CHAMPION,
        ),
    )

    def backtest_scores(self) -> dict[str, Any] | None:
        """This version's own entry of the backtest's per-model metrics, if present."""
        return model_scores(self.backtest_metrics, self.backtest_model)

    def metric(self, name: str) -> float | None:
        """This version's own backtest figure `name`, or None when the backtest lacks it."""
        value = (self.backtest_scores() or {}).get(name)
        if isinstance(value, bool) or not isinstance(value, int | float):
            return None
        return float(value)


def model_scores(backtest: Mapping[str, Any], model: str) -> dict[str, Any] | None:
    """One model's metrics in a backtest document ("models": a list or a mapping)."""
    models = backtest.get("models")
    if isinstance(models, Mapping):
        found = models.get(model)
        return dict(found) if isinstance(found, Mapping) else None
    if isinstance(models, list):
        for entry in models:
            if isinstance(entry, Mapping) and entry.get("model") == model:
                return dict(entry)
    return None


class PromotionForecastAccuracy(Base):
    """How one promotion revision's stored forecast met the units actually sold.

    Sums are over the revision's item x location forecast lines; `wape` and `bias` are
    fractions of actual units (bias > 0 means the forecast was too high).
    """

    __tablename__ = "promotion_forecast_accuracy"

    promotion_id: Mapped[int] = mapped_column(sa.ForeignKey("promotions.id"), primary_key=True)
    revision: Mapped[int] = mapped_column(primary_key=True)
    model_version: Mapped[str] = mapped_column(sa.String(64), index=True)
    inputs_hash: Mapped[str] = mapped_column(sa.String(64))
    lines: Mapped[int]
    lines_without_actuals: Mapped[int]
    forecast_units: Mapped[float]
    baseline_units: Mapped[float]
    actual_units: Mapped[float]
    abs_error_units: Mapped[float]
    forecast_uplift_pct: Mapped[float | None]
    actual_uplift_pct: Mapped[float | None]
    wape: Mapped[float | None]
    bias: Mapped[float | None]
    lines_within_p10_p90: Mapped[int]
    coverage_p10_p90: Mapped[float | None]
    details: Mapped[JsonDict]
    recorded_at: Mapped[Timestamp]


class ModelArtifact(Base):
    """The fitted model of one registered version (see forecasting/artifacts.py)."""

    __tablename__ = "model_artifacts"

    version: Mapped[str] = mapped_column(sa.ForeignKey("model_versions.version"), primary_key=True)
    format: Mapped[str] = mapped_column(sa.String(16), default="pickle")
    sha256: Mapped[str] = mapped_column(sa.String(64))
    size_bytes: Mapped[int]
    payload: Mapped[bytes] = mapped_column(sa.LargeBinary)
    created_at: Mapped[Timestamp]

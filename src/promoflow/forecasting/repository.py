"""Every query of the forecasting package: sales history, forecast lines, the registry."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

import polars as pl
import sqlalchemy as sa
from sqlalchemy.orm import Session

from promoflow.catalog.models import Item
from promoflow.forecasting.models import ModelArtifact, ModelVersion, PromotionForecastAccuracy
from promoflow.forecasting.schemas import HISTORY_SCHEMA, ModelStatus
from promoflow.inventory.models import WeeklySales
from promoflow.promotions.models import ForecastLine, PromotionItem, PromotionLocation

# Sales history -------------------------------------------------------------------


def _history(session: Session, *conditions: sa.ColumnElement[bool]) -> pl.DataFrame:
    """Weekly sales rows (HISTORY_SCHEMA, with the item's category) matching `conditions`."""
    query = (
        sa.select(
            WeeklySales.item_id,
            WeeklySales.location_id,
            WeeklySales.week,
            WeeklySales.units,
            WeeklySales.price,
            WeeklySales.on_promo,
            WeeklySales.mechanic,
            WeeklySales.display,
            WeeklySales.feature,
            WeeklySales.stockout,
            Item.category,
        )
        .join(Item, Item.id == WeeklySales.item_id)
        .where(*conditions)
    )
    rows = session.execute(query).all()
    return pl.DataFrame([tuple(row) for row in rows], schema=HISTORY_SCHEMA, orient="row")


def history_of_promotion_scope(
    session: Session, promotion_id: int, since: date, before: date
) -> pl.DataFrame:
    """Weekly sales in [since, before) at the promotion's locations, for every item of the
    categories its items belong to (a read join on the promotion's scope)."""
    scope_categories = (
        sa.select(Item.category)
        .join(PromotionItem, PromotionItem.item_id == Item.id)
        .where(PromotionItem.promotion_id == promotion_id)
    )
    scope_locations = sa.select(PromotionLocation.location_id).where(
        PromotionLocation.promotion_id == promotion_id
    )
    return _history(
        session,
        Item.category.in_(scope_categories),
        WeeklySales.location_id.in_(scope_locations),
        WeeklySales.week >= since,
        WeeklySales.week < before,
    )


def history_since(session: Session, since: date) -> pl.DataFrame:
    """Every item x location's weekly sales from `since` on."""
    return _history(session, WeeklySales.week >= since)


def newest_sales_week(session: Session) -> date | None:
    return session.scalar(sa.select(sa.func.max(WeeklySales.week)))


# Forecast lines ------------------------------------------------------------------


def replace_forecast_lines(
    session: Session, promotion_id: int, revision: int, rows: list[dict[str, Any]]
) -> None:
    """Delete the revision's forecast lines, then insert `rows` (when there are any)."""
    session.execute(
        sa.delete(ForecastLine).where(
            ForecastLine.promotion_id == promotion_id, ForecastLine.revision == revision
        )
    )
    if rows:
        session.execute(sa.insert(ForecastLine), rows)


def forecast_lines(
    session: Session, promotion_id: int, revision: int, columns: Sequence[str]
) -> Sequence[tuple[Any, ...]]:
    """(item_id, location_id, *columns) of each of the revision's forecast lines."""
    query = sa.select(
        ForecastLine.item_id,
        ForecastLine.location_id,
        *(getattr(ForecastLine, name) for name in columns),
    ).where(ForecastLine.promotion_id == promotion_id, ForecastLine.revision == revision)
    return [tuple(row) for row in session.execute(query).all()]


# Post-event accuracy -------------------------------------------------------------


def get_accuracy(
    session: Session, promotion_id: int, revision: int
) -> PromotionForecastAccuracy | None:
    return session.get(PromotionForecastAccuracy, (promotion_id, revision))


def accuracy_sums_by_model(
    session: Session, model_version: str | None
) -> Sequence[tuple[str, int, int, float, float, float, int]]:
    """Per model version: promotions, lines, forecast, actual, abs error, lines in P10-P90."""
    acc = PromotionForecastAccuracy
    query = (
        sa.select(
            acc.model_version,
            sa.func.count(),
            sa.func.sum(acc.lines),
            sa.func.sum(acc.forecast_units),
            sa.func.sum(acc.actual_units),
            sa.func.sum(acc.abs_error_units),
            sa.func.sum(acc.lines_within_p10_p90),
        )
        .group_by(acc.model_version)
        .order_by(acc.model_version)
    )
    if model_version is not None:
        query = query.where(acc.model_version == model_version)
    return [
        (version, promotions, lines, forecast, actual, error, within)
        for version, promotions, lines, forecast, actual, error, within in session.execute(query)
    ]


# The model registry --------------------------------------------------------------


def find_version(session: Session, version: str) -> ModelVersion | None:
    """One registered model version, or None."""
    return session.scalar(sa.select(ModelVersion).where(ModelVersion.version == version))


def find_champion(session: Session, kind: str) -> ModelVersion | None:
    """The champion of `kind`, or None before the first promotion."""
    return session.scalar(
        sa.select(ModelVersion).where(
            ModelVersion.kind == kind, ModelVersion.status == ModelStatus.CHAMPION
        )
    )


def query_versions(
    session: Session, kind: str | None, status: str | None
) -> Sequence[ModelVersion]:
    """Versions matching the filters, most recently registered first."""
    query = sa.select(ModelVersion)
    if kind is not None:
        query = query.where(ModelVersion.kind == kind)
    if status is not None:
        query = query.where(ModelVersion.status == status)
    return session.scalars(
        query.order_by(ModelVersion.created_at.desc(), ModelVersion.id.desc())
    ).all()


def get_artifact(session: Session, version: str) -> ModelArtifact | None:
    return session.get(ModelArtifact, version)


def save_artifact(session: Session, artifact: ModelArtifact) -> None:
    """Insert or replace the artefact of its version."""
    session.merge(artifact)
    session.flush()

"""Forecast a promotion's scope, store the lines per revision and log the event."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from datetime import date, timedelta
from decimal import Decimal

import polars as pl
from sqlalchemy.orm import Session

from promoflow.events.service import record_event
from promoflow.forecasting import repository
from promoflow.forecasting.base import DemandForecaster, PromotionScenario
from promoflow.forecasting.schemas import HISTORY_SCHEMA, ForecastSummary
from promoflow.promotions import repository as promotions
from promoflow.promotions.mechanics import discount_depth
from promoflow.promotions.models import Promotion

__all__ = [
    "HISTORY_SCHEMA",
    "ForecastInputs",
    "ForecastSummary",
    "build_scenario",
    "forecast_inputs",
    "forecast_promotion",
    "history_since",
    "inputs_hash",
    "load_history",
    "newest_sales_week",
    "run_forecast",
    "store_forecast",
]
LINE_COLUMNS = ("baseline_units", "promoted_units", "p10", "p50", "p80", "p90")
# P80 from P50 and P90 when a forecaster gives no P80 (normal quantiles: z80 / z90).
P80_SHARE = 0.8416212335729143 / 1.2815515655446004


def forecast_promotion(
    session: Session,
    promotion: Promotion,
    forecaster: DemandForecaster,
    *,
    lookback_weeks: int | None = None,
) -> ForecastSummary:
    """Forecast the promotion's item x location scope and replace its revision's lines."""
    inputs = forecast_inputs(session, promotion, forecaster, lookback_weeks=lookback_weeks)
    return store_forecast(
        session, promotion, forecaster.model_version, inputs, run_forecast(forecaster, inputs)
    )


@dataclass(frozen=True)
class ForecastInputs:
    """What a forecast reads: the scenario and the sales history."""

    scenario: PromotionScenario
    history: pl.DataFrame


def forecast_inputs(
    session: Session,
    promotion: Promotion,
    forecaster: DemandForecaster,
    *,
    lookback_weeks: int | None = None,
) -> ForecastInputs:
    """Read the scenario and history (then close the session: a model may take seconds)."""
    scenario = build_scenario(session, promotion)
    weeks = lookback_weeks or forecaster.history_weeks
    since = promotion.start_date - timedelta(weeks=weeks)
    return ForecastInputs(
        scenario, load_history(session, promotion.id, since, promotion.start_date)
    )


def run_forecast(forecaster: DemandForecaster, inputs: ForecastInputs) -> pl.DataFrame:
    """The forecaster's window lines, with a P80 when it gives none."""
    forecast = forecaster.forecast(inputs.history, inputs.scenario)
    if "p80" not in forecast.columns:
        forecast = forecast.with_columns(
            (pl.col("p50") + P80_SHARE * (pl.col("p90") - pl.col("p50"))).alias("p80")
        )
    return forecast


def store_forecast(
    session: Session,
    promotion: Promotion,
    model_version: str,
    inputs: ForecastInputs,
    forecast: pl.DataFrame,
) -> ForecastSummary:
    """Replace the revision's forecast lines and log `forecast.created`."""
    digest = inputs_hash(model_version, inputs.scenario, inputs.history)
    lines = forecast.select(
        pl.lit(promotion.id).alias("promotion_id"),
        pl.lit(promotion.revision).alias("revision"),
        "item_id",
        "location_id",
        *LINE_COLUMNS,
        pl.lit(model_version).alias("model_version"),
        pl.lit(digest).alias("inputs_hash"),
    )
    repository.replace_forecast_lines(
        session, promotion.id, promotion.revision, lines.to_dicts() if lines.height else []
    )
    baseline = float(lines["baseline_units"].sum())
    promoted = float(lines["promoted_units"].sum())
    summary = ForecastSummary(
        promotion_id=promotion.id,
        revision=promotion.revision,
        model_version=model_version,
        inputs_hash=digest,
        lines=lines.height,
        baseline_units=round(baseline, 1),
        promoted_units=round(promoted, 1),
        uplift_pct=round((promoted / baseline - 1.0) * 100.0, 1) if baseline > 0 else 0.0,
        p90_units=round(float(lines["p90"].sum()), 1),
    )
    record_event(
        session,
        "forecast.created",
        f"promotion/{promotion.id}",
        asdict(summary),
        promotion_id=promotion.id,
    )
    session.flush()
    return summary


def build_scenario(session: Session, promotion: Promotion) -> PromotionScenario:
    """The forecaster's view of the promotion; depth is the mean over its items."""
    items = promotions.scope_items(session, promotion.id)
    locations = promotions.scope_locations(session, promotion.id)
    depths = [
        discount_depth(Decimal(pi.promo_price), Decimal(item.regular_price)) for pi, item in items
    ]
    return PromotionScenario(
        item_ids=[item.id for _, item in items],
        location_ids=[location.id for location in locations],
        start=promotion.start_date,
        end=promotion.end_date,
        mechanic=promotion.mechanic,
        discount_depth=max(0.0, sum(depths) / len(depths)) if depths else 0.0,
        display=promotion.display_support,
        feature=promotion.feature_support,
    )


def load_history(session: Session, promotion_id: int, since: date, before: date) -> pl.DataFrame:
    """Weekly sales at the promotion's locations for its items and their category peers.

    Peers (other items of the same categories) give the lift estimate more promoted
    weeks to learn from; the `category` column tells the forecaster who is who.
    """
    return repository.history_of_promotion_scope(session, promotion_id, since, before)


def history_since(session: Session, since: date) -> pl.DataFrame:
    """Every item x location's weekly sales (HISTORY_SCHEMA) from `since` on."""
    return repository.history_since(session, since)


def newest_sales_week(session: Session) -> date | None:
    """The latest week with sales history, or None when there is none."""
    return repository.newest_sales_week(session)


def inputs_hash(model_version: str, scenario: PromotionScenario, history: pl.DataFrame) -> str:
    """sha256 of the model version, the scenario and the history (order-independent)."""
    digest = hashlib.sha256()
    head = {"model_version": model_version, **asdict(scenario)}
    digest.update(json.dumps(head, sort_keys=True, default=str).encode())
    ordered = history.sort(["item_id", "location_id", "week"])
    digest.update(ordered.write_csv().encode())
    return digest.hexdigest()

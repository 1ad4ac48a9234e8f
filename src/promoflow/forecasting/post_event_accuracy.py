"""Post-event accuracy: how a promotion's stored forecast met the units actually sold.

One row per promotion revision (re-recording replaces it), and a summary per model
version so the registry's backtest can be checked against live promotions.
Never commits; the event rides the caller's transaction.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import polars as pl
from sqlalchemy.orm import Session

from promoflow.events.service import record_event
from promoflow.forecasting import repository
from promoflow.forecasting.models import PromotionForecastAccuracy
from promoflow.forecasting.schemas import ModelAccuracy
from promoflow.kit.clock import utcnow
from promoflow.kit.errors import Conflict, InvalidInput, NotFound

KEYS = ["item_id", "location_id"]
ACTUALS_COLUMNS = (*KEYS, "actual_units")
FORECAST_COLUMNS = (
    "baseline_units",
    "promoted_units",
    "p10",
    "p90",
    "model_version",
    "inputs_hash",
)


__all__ = [
    "ModelAccuracy",
    "accuracy_by_model",
    "get_post_event_accuracy",
    "record_post_event_accuracy",
]


def record_post_event_accuracy(
    session: Session,
    promotion_id: int,
    revision: int,
    actuals: pl.DataFrame,
    *,
    now: datetime | None = None,
) -> PromotionForecastAccuracy:
    """Join the revision's forecast lines to `actuals` and store the accuracy row.

    `actuals` has item_id, location_id, actual_units for the promotion window. A
    forecast line without an actuals row counts as zero units sold (sales feeds
    leave out items that did not sell); actuals outside the forecast scope are
    counted in `details` and otherwise ignored.
    """
    sold = _checked_actuals(actuals)
    forecast = _forecast_lines(session, promotion_id, revision)
    models = forecast["model_version"].unique().sort().to_list()
    if len(models) > 1:
        raise Conflict(
            f"promotion {promotion_id} revision {revision} has forecast lines from "
            f"{len(models)} models ({', '.join(models)}); re-forecast it with one model",
            models=models,
        )
    joined = forecast.join(sold, on=KEYS, how="left")
    figures = _figures(joined)
    figures["details"] = {
        "actual_rows_outside_forecast": sold.join(forecast, on=KEYS, how="anti").height,
    }
    row = repository.get_accuracy(session, promotion_id, revision)
    if row is None:
        row = PromotionForecastAccuracy(promotion_id=promotion_id, revision=revision)
        session.add(row)
    row.model_version = models[0]
    row.inputs_hash = str(forecast["inputs_hash"][0])
    for name, value in figures.items():
        setattr(row, name, value)
    row.recorded_at = now or utcnow()
    session.flush()
    record_event(
        session,
        "forecast.accuracy_recorded",
        f"promotion/{promotion_id}",
        {
            "promotion_id": promotion_id,
            "revision": revision,
            "model_version": row.model_version,
            "forecast_units": row.forecast_units,
            "actual_units": row.actual_units,
            "wape": row.wape,
            "bias": row.bias,
            "coverage_p10_p90": row.coverage_p10_p90,
        },
        promotion_id=promotion_id,
    )
    return row


def get_post_event_accuracy(
    session: Session, promotion_id: int, revision: int
) -> PromotionForecastAccuracy | None:
    """The recorded accuracy of one promotion revision, or None before it is recorded."""
    return repository.get_accuracy(session, promotion_id, revision)


def accuracy_by_model(session: Session, model_version: str | None = None) -> list[ModelAccuracy]:
    """Post-event accuracy per model version, pooled over its promotions (exact, not means)."""
    summaries = []
    rows = repository.accuracy_sums_by_model(session, model_version)
    for version, promotions, lines, forecast, actual, error, within in rows:
        summaries.append(
            ModelAccuracy(
                model_version=version,
                promotions=int(promotions),
                lines=int(lines),
                forecast_units=float(forecast),
                actual_units=float(actual),
                wape=float(error) / float(actual) if actual else None,
                bias=(float(forecast) - float(actual)) / float(actual) if actual else None,
                coverage_p10_p90=int(within) / int(lines) if lines else None,
            )
        )
    return summaries


def _checked_actuals(actuals: pl.DataFrame) -> pl.DataFrame:
    missing = [name for name in ACTUALS_COLUMNS if name not in actuals.columns]
    if missing:
        raise InvalidInput(
            "actuals",
            actuals.columns,
            f"needs the columns {', '.join(ACTUALS_COLUMNS)}; missing {', '.join(missing)}",
        )
    try:
        sold = actuals.select(
            pl.col("item_id").cast(pl.Int64),
            pl.col("location_id").cast(pl.Int64),
            pl.col("actual_units").cast(pl.Float64),
        )
    except pl.exceptions.InvalidOperationError as error:
        raise InvalidInput(
            "actuals", dict(actuals.schema), f"ids and units must be numbers: {error}"
        ) from error
    bad = sold.filter(
        pl.any_horizontal(pl.all().is_null())
        | pl.col("actual_units").is_nan()
        | pl.col("actual_units").is_infinite()
        | (pl.col("actual_units") < 0)
    )
    if bad.height:
        raise InvalidInput(
            "actuals",
            _rows(bad),
            f"{bad.height} row(s) lack an id or have missing, negative or non-finite units",
        )
    repeated = sold.filter(pl.struct(KEYS).is_duplicated())
    if repeated.height:
        raise InvalidInput(
            "actuals",
            _rows(repeated.unique(KEYS, maintain_order=True)),
            "lists an item x location more than once; sum its units into one row",
        )
    return sold


def _forecast_lines(session: Session, promotion_id: int, revision: int) -> pl.DataFrame:
    rows = repository.forecast_lines(session, promotion_id, revision, FORECAST_COLUMNS)
    if not rows:
        raise NotFound(
            f"promotion {promotion_id} revision {revision} has no stored forecast; "
            "forecast it before recording its accuracy",
            promotion_id=promotion_id,
            revision=revision,
        )
    schema: dict[str, Any] = {
        "item_id": pl.Int64,
        "location_id": pl.Int64,
        **{name: pl.Float64 for name in FORECAST_COLUMNS[:4]},
        "model_version": pl.String,
        "inputs_hash": pl.String,
    }
    return pl.DataFrame(list(rows), schema=schema, orient="row")


def _figures(joined: pl.DataFrame) -> dict[str, Any]:
    """The accuracy figures of forecast lines joined to actuals (null = none sold)."""
    lines = joined.with_columns(pl.col("actual_units").fill_null(0.0))
    sums = lines.select(
        forecast=pl.col("promoted_units").sum(),
        baseline=pl.col("baseline_units").sum(),
        actual=pl.col("actual_units").sum(),
        error=(pl.col("actual_units") - pl.col("promoted_units")).abs().sum(),
        within=pl.col("actual_units").is_between(pl.col("p10"), pl.col("p90")).sum(),
    ).row(0, named=True)
    forecast, baseline, actual = sums["forecast"], sums["baseline"], sums["actual"]
    return {
        "lines": lines.height,
        "lines_without_actuals": joined["actual_units"].null_count(),
        "forecast_units": forecast,
        "baseline_units": baseline,
        "actual_units": actual,
        "abs_error_units": sums["error"],
        "forecast_uplift_pct": (forecast / baseline - 1.0) * 100.0 if baseline > 0 else None,
        "actual_uplift_pct": (actual / baseline - 1.0) * 100.0 if baseline > 0 else None,
        "wape": sums["error"] / actual if actual > 0 else None,
        "bias": (forecast - actual) / actual if actual > 0 else None,
        "lines_within_p10_p90": int(sums["within"]),
        "coverage_p10_p90": int(sums["within"]) / lines.height,
    }


def _rows(frame: pl.DataFrame, limit: int = 5) -> list[dict[str, Any]]:
    return frame.head(limit).to_dicts()

"""Backtest accuracy measures: pure functions on polars frames, checkable by hand.

A scored frame has one row per held-out, observed, uncensored period with columns
unique_id, actual, forecast, p10, p90 (null when the model gives no interval) and
on_promotion. Every measure is None when it is undefined (nothing to divide by).
"""

from __future__ import annotations

import polars as pl

METRIC_NAMES = (
    "wape",
    "wape_promo",
    "wape_non_promo",
    "bias",
    "mase",
    "coverage_80",
    "coverage_80_promo",
    "coverage_80_non_promo",
    "interval_width_80",
)


def wape(scored: pl.DataFrame) -> float | None:
    """Weighted absolute percentage error: sum |forecast - actual| / sum actual."""
    total = _sum(scored["actual"])
    if scored.is_empty() or not total:
        return None
    return _sum((scored["forecast"] - scored["actual"]).abs()) / total


def bias(scored: pl.DataFrame) -> float | None:
    """(sum forecast - sum actual) / sum actual: above 0 over-forecasts."""
    total = _sum(scored["actual"])
    if scored.is_empty() or not total:
        return None
    return (_sum(scored["forecast"]) - total) / total


def interval_coverage(scored: pl.DataFrame) -> float | None:
    """Share of actuals inside [p10, p90] (0.8 for a calibrated 80 % interval)."""
    if scored.is_empty() or scored["p10"].null_count() == scored.height:
        return None
    inside = (scored["actual"] >= scored["p10"]) & (scored["actual"] <= scored["p90"])
    return float(inside.fill_null(False).mean())  # type: ignore[arg-type]


def interval_width(scored: pl.DataFrame) -> float | None:
    """Mean p90 - p10: how much a planner must hedge for that coverage."""
    if scored.is_empty() or scored["p10"].null_count() == scored.height:
        return None
    return float((scored["p90"] - scored["p10"]).mean())  # type: ignore[arg-type]


def naive_scale(history: pl.DataFrame) -> pl.DataFrame:
    """Per series, the in-sample MAE of the lag-1 naive forecast (MASE's denominator).

    `history` has unique_id, ds, y, censored; unobserved and censored periods are
    skipped, so the lag-1 step joins consecutive observed periods.
    """
    return (
        history.filter(pl.col("y").is_not_null() & ~pl.col("censored"))
        .sort("unique_id", "ds")
        .group_by("unique_id", maintain_order=True)
        .agg(pl.col("y").diff().abs().mean().alias("scale"))
    )


def mase(scored: pl.DataFrame, scale: pl.DataFrame) -> float | None:
    """Mean over series of (MAE / naive scale), over series whose scale is above 0."""
    ratios = (
        scored.group_by("unique_id")
        .agg((pl.col("forecast") - pl.col("actual")).abs().mean().alias("mae"))
        .join(scale, on="unique_id", how="inner")
        .filter(pl.col("scale") > 0)
    )
    if ratios.is_empty():
        return None
    return float((ratios["mae"] / ratios["scale"]).mean())  # type: ignore[arg-type]


def accuracy(scored: pl.DataFrame, scale: pl.DataFrame) -> dict[str, float | None]:
    """Every measure of METRIC_NAMES for one model's scored rows."""
    promoted = scored.filter(pl.col("on_promotion"))
    regular = scored.filter(~pl.col("on_promotion"))
    return {
        "wape": wape(scored),
        "wape_promo": wape(promoted),
        "wape_non_promo": wape(regular),
        "bias": bias(scored),
        "mase": mase(scored, scale),
        "coverage_80": interval_coverage(scored),
        # An interval can be calibrated overall yet far too narrow on promotion weeks.
        "coverage_80_promo": interval_coverage(promoted),
        "coverage_80_non_promo": interval_coverage(regular),
        "interval_width_80": interval_width(scored),
    }


def _sum(values: pl.Series) -> float:
    return float(values.sum() or 0.0)

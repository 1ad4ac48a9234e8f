"""The yardsticks a demand model must beat: statsforecast baselines on a Panel.

statsforecast wants regular series without holes, so each series' history is laid
on a regular clock (see `baseline_clock`) from its first usable period to the
cutoff and the holes are forward-filled. Censored (stockout) periods count as
holes too: their sales understate demand, and carrying the last uncapped value
forward gives the baselines the fairest chance.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import polars as pl
from statsforecast import StatsForecast
from statsforecast.models import AutoETS, Naive, SeasonalNaive, WindowAverage
from utilsforecast.preprocessing import fill_gaps

from promoflow.forecasting.panel import Panel

LEVEL = 80
MOVING_AVERAGE_WINDOW = 4
WEEKS_PER_YEAR = 52
FORECAST_COLUMNS = ("unique_id", "ds", "forecast", "p10", "p90")


@dataclass(frozen=True)
class BaselineForecast:
    """One baseline's forecasts (unique_id, ds, forecast, p10, p90) and its cost."""

    model: str
    forecasts: pl.DataFrame
    seconds: float
    # Forecast rows the naive forecast filled because the model had too little history.
    fallback_rows: int = 0


@dataclass(frozen=True)
class Skipped:
    """A baseline that could not run on this data, and why."""

    model: str
    reason: str


@dataclass(frozen=True)
class _Baseline:
    name: str
    model: Any
    intervals: bool
    fallback: Any = None


def default_season_length(panel: Panel) -> int | None:
    """52 for weekly dates (about 7 days apart), otherwise no seasonal baseline."""
    if not panel.periods_are_dates or panel.calendar.height < 2:
        return None
    spacing = panel.calendar["period"].diff().drop_nulls().median()
    days = spacing.total_seconds() / 86400 if spacing is not None else 0.0  # type: ignore[union-attr]
    return WEEKS_PER_YEAR if 6 <= days <= 8 else None


def baseline_clock(calendar: pl.DataFrame) -> pl.DataFrame:
    """ds -> t, the baselines' time index.

    Dates spaced by whole multiples of their smallest step keep real time, so a
    week missing from the whole file stays a hole (and a season stays 52 weeks).
    Anything else (integers, irregular dates) counts calendar positions.
    """
    clock = calendar.select("ds", pl.col("ds").alias("t"))
    if calendar.schema["period"] not in (pl.Date(), pl.Datetime()) or calendar.height < 2:
        return clock
    elapsed = (pl.col("period") - pl.col("period").first()).dt.total_seconds()
    seconds = calendar.select(elapsed.alias("s"))["s"]
    step = seconds.diff().drop_nulls().min()
    if not step or (seconds % step != 0).any():
        return clock
    return calendar.select("ds", (seconds // step).cast(pl.Int64).alias("t"))


def baseline_history(train: pl.DataFrame, clock: pl.DataFrame, cutoff_t: int) -> pl.DataFrame:
    """unique_id, ds (= clock t), y: every series regular from its first usable period."""
    usable = (
        train.filter(pl.col("y").is_not_null() & ~pl.col("censored"))
        .join(clock, on="ds")
        .select("unique_id", pl.col("t").alias("ds"), "y")
    )
    filled = fill_gaps(usable, freq=1, start="per_serie", end=cutoff_t)
    # Holes (missing rows, censored periods, weeks absent from the file) repeat the
    # last usable value: the least surprising guess for a naive yardstick.
    return filled.sort("unique_id", "ds").with_columns(pl.col("y").forward_fill().over("unique_id"))


def run_baselines(
    train: Panel, cutoff: int, horizon: int, season_length: int | None
) -> tuple[list[BaselineForecast], list[Skipped]]:
    """Forecast positions cutoff+1 .. cutoff+horizon with every baseline that can run."""
    clock = baseline_clock(train.calendar)
    cutoff_t = _t_at(clock, cutoff)
    steps = _t_at(clock, cutoff + horizon) - cutoff_t
    history = baseline_history(train.frame, clock, cutoff_t)
    future = clock.filter(pl.col("ds").is_between(cutoff + 1, cutoff + horizon))
    lineup, skipped = _lineup(history, season_length)
    results: list[BaselineForecast] = []
    for baseline in lineup:
        started = time.perf_counter()
        raw = StatsForecast(
            models=[baseline.model], freq=1, fallback_model=baseline.fallback
        ).forecast(df=history, h=steps, level=[LEVEL] if baseline.intervals else None)
        seconds = time.perf_counter() - started
        results.append(BaselineForecast(baseline.name, _tidy(raw, baseline, future), seconds))
    naive = results[0].forecasts
    return [_fill_from(result, naive) for result in results], skipped


def _lineup(
    history: pl.DataFrame, season_length: int | None
) -> tuple[list[_Baseline], list[Skipped]]:
    lineup = [
        _Baseline("naive", Naive(alias="model"), intervals=True),
        _Baseline(
            f"moving_average_{MOVING_AVERAGE_WINDOW}",
            WindowAverage(MOVING_AVERAGE_WINDOW, alias="model"),
            # statsforecast gives WindowAverage no interval without conformal refits.
            intervals=False,
        ),
    ]
    skipped: list[Skipped] = []
    if season_length is not None:
        name = f"seasonal_naive_{season_length}"
        lengths = history.group_by("unique_id").len()["len"]
        longest = int(lengths.max()) if lengths.len() else 0  # type: ignore[arg-type]
        if longest >= season_length:
            lineup.append(
                _Baseline(name, SeasonalNaive(season_length, alias="model"), intervals=True)
            )
        else:
            skipped.append(
                Skipped(
                    name, f"no series has {season_length} periods of history (longest: {longest})"
                )
            )
    # AutoETS cannot fit seasons above 24 and slows 25x trying (DESIGN.md), so it
    # stays non-seasonal; series too short for it fall back to the naive forecast.
    lineup.append(
        _Baseline("auto_ets", AutoETS(season_length=1, alias="model"), True, Naive(alias="model"))
    )
    return lineup, skipped


def _tidy(raw: pl.DataFrame, baseline: _Baseline, future: pl.DataFrame) -> pl.DataFrame:
    """statsforecast's columns as ours, on panel positions, NaN as null, demand >= 0."""
    alias = "model"
    bounds = (
        [pl.col(f"{alias}-lo-{LEVEL}"), pl.col(f"{alias}-hi-{LEVEL}")]
        if baseline.intervals
        else [pl.lit(None, pl.Float64), pl.lit(None, pl.Float64)]
    )
    tidy = raw.join(future, left_on="ds", right_on="t", how="inner").select(
        "unique_id",
        pl.col("ds_right").alias("ds"),
        pl.col(alias).alias("forecast"),
        bounds[0].alias("p10"),
        bounds[1].alias("p90"),
    )
    # Demand is never negative, so clipping can only move a forecast towards the actual.
    return tidy.with_columns(
        pl.col(c).fill_nan(None).clip(lower_bound=0.0) for c in ("forecast", "p10", "p90")
    )


def _fill_from(result: BaselineForecast, naive: pl.DataFrame) -> BaselineForecast:
    """Rows a model left empty (history shorter than its window) take the naive forecast."""
    empty = result.forecasts["forecast"].is_null()
    if not empty.any():
        return result
    stand_in = naive.rename({c: f"naive_{c}" for c in ("forecast", "p10", "p90")})
    interval = result.forecasts["p10"].null_count() < result.forecasts.height
    filled = (
        result.forecasts.join(stand_in, on=["unique_id", "ds"], how="left")
        .with_columns(
            pl.when(pl.col("forecast").is_null())
            .then(pl.col(f"naive_{c}"))
            .otherwise(pl.col(c))
            .alias(c)
            for c in (("forecast", "p10", "p90") if interval else ("forecast",))
        )
        .select(FORECAST_COLUMNS)
    )
    return BaselineForecast(result.model, filled, result.seconds, int(empty.sum()))


def _t_at(clock: pl.DataFrame, ds: int) -> int:
    return int(clock.filter(pl.col("ds") == ds)["t"].item())

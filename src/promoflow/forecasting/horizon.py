"""What the local and the distributed demand model share around their engines.

Both prepare a history the same way (complete series, censoring, scales, usual
prices), build the same horizon rows, the same no-promotion counterfactual and
the same engineered features, so the two can never drift apart.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from promoflow.forecasting import features
from promoflow.forecasting.features import DS, ID, WEIGHT
from promoflow.forecasting.panel import Panel, PanelSpec
from promoflow.kit.errors import InvalidInput

NOT_FEATURES = (ID, DS, "y", "censored", WEIGHT, features.STOCKOUT_SALES, features.SEASON)


@dataclass(frozen=True)
class PreparedHistory:
    """One history a model forecasts from: imputed rows and what is derived from them."""

    spec: PanelSpec
    frame: pl.DataFrame
    calendar: pl.DataFrame
    cutoff: int
    scales: pl.DataFrame
    usual: pl.DataFrame
    dispersion: float  # negative binomial 1 / shape of clean weeks (censoring.py)
    # Seasonal index per category and week of the year (features.season_profile).
    season_profile: pl.DataFrame | None = None


def prepare_history(
    history: Panel,
    ratio: float | None = None,
    profile: pl.DataFrame | None = None,
    *,
    season: bool = True,
) -> tuple[PreparedHistory, float]:
    """Complete, impute and measure a panel's history; returns it and the promotion ratio.

    Fitting (no `ratio`) learns the promotion ratio and, with `season`, the
    seasonal profile from this history; forecasting from fresh history passes
    the fitted model's.
    """
    spec = history.spec
    cutoff = int(history.frame[DS].max())  # type: ignore[arg-type]
    completed = features.complete_series(history.frame, spec, cutoff)
    imputed = features.impute_censored(completed, spec, ratio=ratio)
    if ratio is None and season:
        profile = features.season_profile(imputed.frame, spec, history.calendar)
    frame = features.with_season(imputed.frame, spec, history.calendar, profile)
    prepared = PreparedHistory(
        spec=spec,
        frame=frame,
        calendar=history.calendar,
        cutoff=cutoff,
        scales=features.series_scales(frame, spec),
        usual=features.usual_prices(frame.filter(pl.col(WEIGHT) > 0), spec),
        dispersion=imputed.dispersion,
        season_profile=profile,
    )
    return prepared, imputed.promo_ratio


def static_codes(frame: pl.DataFrame, spec: PanelSpec) -> dict[str, dict[str, int]]:
    """An integer code per value of each text static column (LightGBM reads numbers)."""
    return {
        c: {v: i for i, v in enumerate(sorted(frame[c].drop_nulls().cast(pl.String).unique()))}
        for c in spec.static_cols
        if frame.schema[c] == pl.String()
    }


def engineer(
    timeline: pl.DataFrame, history: PreparedHistory, codes: dict[str, dict[str, int]]
) -> pl.DataFrame:
    """Promotion history, relative prices, calendar and coded statics (see features.py)."""
    spec = history.spec
    rows = features.promotion_history(timeline, spec)
    rows = features.relative_prices(rows, spec, history.usual)
    rows = features.cross_item(rows, spec)
    ahead = int(rows[DS].max()) - history.cutoff  # type: ignore[arg-type]
    calendar = features.future_calendar(history.calendar, ahead)
    if calendar.schema["period"] in (pl.Date(), pl.Datetime()):
        rows = rows.join(features.calendar_features(calendar), on=DS, how="left")
    rows = features.with_season(rows, spec, calendar, history.season_profile)
    return rows.with_columns(
        pl.col(column).cast(pl.String).replace_strict(mapping, default=-1).cast(pl.Int32)
        for column, mapping in codes.items()
    )


def feature_names(engineered: pl.DataFrame, spec: PanelSpec) -> list[str]:
    """The dynamic features of an engineered frame (static columns excluded), sorted."""
    return sorted(set(engineered.columns) - set(NOT_FEATURES) - set(spec.static_cols))


def check_future(future: pl.DataFrame, history: PreparedHistory) -> None:
    """Refuse future rows a model cannot forecast, naming the column or series."""
    spec = history.spec
    missing = [c for c in (ID, DS, *spec.known_covariates) if c not in future.columns]
    if missing:
        raise InvalidInput("future", ", ".join(missing), "columns missing from the future rows")
    if future.filter(pl.col(DS) <= history.cutoff).height:
        raise InvalidInput("future.ds", history.cutoff, "future rows must come after the history")
    unseen = set(future[ID].unique()) - set(history.frame[ID].unique())
    if unseen:
        raise InvalidInput(
            "unique_id", sorted(unseen)[:3], "series without history to forecast from"
        )


def horizon_grid(future: pl.DataFrame, ids: list[str], history: PreparedHistory) -> pl.DataFrame:
    """History + every requested series x step; gaps take no promotion, last covariates."""
    spec = history.spec
    steps = int(future[DS].max()) - history.cutoff  # type: ignore[arg-type]
    grid = pl.DataFrame({ID: ids}).join(
        pl.DataFrame({DS: list(range(history.cutoff + 1, history.cutoff + steps + 1))}),
        how="cross",
    )
    given = future.select(ID, DS, *spec.known_covariates)
    tail = history.frame.filter(pl.col(ID).is_in(ids)).select(
        ID, DS, *spec.known_covariates, *spec.static_cols
    )
    rows = pl.concat([tail, grid.join(given, on=[ID, DS], how="left")], how="diagonal")
    carried = [c for c in (*spec.known_covariates, *spec.static_cols) if c not in spec.promo_cols]
    return rows.sort(ID, DS).with_columns(
        *[pl.col(c).fill_null(0.0) for c in spec.promo_cols],
        *[pl.col(c).forward_fill().over(ID) for c in carried],
    )


def promoted_series(timeline: pl.DataFrame, history: PreparedHistory) -> list[str]:
    """Series with a promotion (or promotion context) after the cutoff, sorted."""
    spec = history.spec
    context = [pl.col(c).fill_null(0) != 0 for c in spec.promo_context_cols]
    touched = pl.any_horizontal([features.promo_flag(spec), *context])
    ahead = timeline.filter((pl.col(DS) > history.cutoff) & touched)
    return sorted(ahead[ID].unique())


def without_promotion(timeline: pl.DataFrame, history: PreparedHistory) -> pl.DataFrame:
    """The counterfactual: future promotion (and context) columns 0, prices back to usual."""
    spec = history.spec
    ahead = pl.col(DS) > history.cutoff
    promoted = features.promo_flag(spec)
    usual = timeline.join(history.usual, on=ID, how="left")
    return usual.with_columns(
        *[
            pl.when(ahead).then(0.0).otherwise(pl.col(c)).alias(c)
            for c in (*spec.promo_cols, *spec.promo_context_cols)
        ],
        *[
            pl.when(ahead & promoted)
            .then(pl.coalesce(f"_usual_{c}", c))
            .otherwise(pl.col(c))
            .alias(c)
            for c in features.price_columns(spec)
        ],
    ).drop(c for c in usual.columns if c.startswith("_usual_"))

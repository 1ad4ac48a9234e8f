"""Seasonal indices: a category's year learnt from all its series at once."""

from __future__ import annotations

import math
from datetime import date, timedelta

import numpy as np
import polars as pl
import pytest

from promoflow.forecasting import features
from promoflow.forecasting.dataset import build_panel
from promoflow.forecasting.panel import PanelSpec
from promoflow.kit.errors import InvalidInput

SPEC = PanelSpec(
    id_cols=("series",),
    time_col="week",
    target="units",
    known_covariates=("on_promo",),
    promo_cols=("on_promo",),
    static_cols=("category",),
    category_col="category",
)
START = date(2024, 1, 1)  # a Monday: ISO week 1


def calendar(weeks: int) -> pl.DataFrame:
    return pl.DataFrame(
        {"ds": list(range(weeks)), "period": [START + timedelta(weeks=w) for w in range(weeks)]},
        schema={"ds": pl.Int64, "period": pl.Date},
    )


def true_season(week_of_year: int) -> float:
    return 1.0 + 0.5 * math.sin(2 * math.pi * (week_of_year - 1) / 52)


def history(weeks: int, series: int = 160, seed: int = 1) -> pl.DataFrame:
    """Category "ice cream" follows true_season, "salt" is flat; promoted weeks sell double."""
    rng = np.random.default_rng(seed)
    rows = []
    days = calendar(weeks)["period"].to_list()
    for s in range(series):
        category = "ice cream" if s % 2 else "salt"
        level = rng.uniform(10, 40)
        for w, day in enumerate(days):
            season = true_season(day.isocalendar().week) if s % 2 else 1.0
            promoted = rng.random() < 0.1
            units = rng.poisson(level * season * (2.0 if promoted else 1.0))
            rows.append((str(s), w, float(units), float(promoted), category))
    frame = pl.DataFrame(
        rows, schema=["unique_id", "ds", "y", "on_promo", "category"], orient="row"
    )
    return frame.with_columns(pl.lit(1.0).alias(features.WEIGHT))


def test_a_category_season_is_recovered_from_all_its_series() -> None:
    profile = features.season_profile(history(104), SPEC, calendar(104))
    assert profile is not None
    ice = profile.filter(pl.col("category") == "ice cream").sort(features.WEEK_OF_YEAR)
    salt = profile.filter(pl.col("category") == "salt")
    # Week 14 is the summer top (1.5), week 40 the winter low (0.5).
    errors = [
        abs(row[features.SEASON] / true_season(row[features.WEEK_OF_YEAR]) - 1)
        for row in ice.filter(pl.col(features.WEEK_OF_YEAR) <= 52).iter_rows(named=True)
    ]
    assert max(errors) < 0.06, max(errors)
    assert salt[features.SEASON].min() > 0.95 and salt[features.SEASON].max() < 1.05


def test_rows_get_their_group_and_week_index_and_less_than_a_year_teaches_none() -> None:
    frame = history(104)
    profile = features.season_profile(frame, SPEC, calendar(104))
    rows = features.with_season(frame, SPEC, calendar(104), profile)
    summer = rows.filter((pl.col("category") == "ice cream") & (pl.col("ds") == 13))
    assert summer[features.SEASON].min() > 1.4  # ISO week 14 of 2024
    assert features.season_profile(history(40), SPEC, calendar(40)) is None
    flat = features.with_season(frame, SPEC, calendar(104), None)
    assert flat[features.SEASON].unique().to_list() == [1.0]


def test_integer_periods_have_no_season() -> None:
    periods = pl.DataFrame({"ds": list(range(104)), "period": list(range(104))})
    assert features.season_profile(history(104), SPEC, periods) is None


def test_a_category_must_be_a_static_column() -> None:
    spec = PanelSpec(**{**SPEC.__dict__, "category_col": "region"})
    raw = pl.DataFrame(
        {"series": ["a"], "week": [1], "units": [3.0], "on_promo": [0], "category": ["salt"]}
    )
    with pytest.raises(InvalidInput) as refused:
        build_panel(raw, spec)
    assert "category_col" in str(refused.value) and "region" in str(refused.value)

"""What a promotion's cells would have sold without it, measured from actuals alone.

Never the forecast's own baseline: every figure here comes from POS sales. A cell
(item x location x week) is *clean* when nothing promotional touched it: the item
was not on promotion, not in the week after one (the dip), no other item of its
category was on promotion at that location (cannibalisation) and the shelf did
not run empty. Then

    season[w]   = sum of clean units in week w / sum of those pairs' levels
    level[p]    = clean units of pair p in its pre-period / sum of season over those weeks
    baseline    = level[p] x season[w]

In a week where the category's other stores carry clean cells, season[w] *is* the
comparable-stores reading (stores not on promotion, same weeks). Where no store is
clean (a national event), season[w] is read from the same week a year apart, and
the baseline is the item's pre-period adjusted for season. docs/post-event.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import polars as pl

PRE_PERIOD_WEEKS = 26
MIN_CLEAN_WEEKS = 6
# A week's comparable reading needs this share of the category's usual clean level.
MIN_COMPARABLE_SHARE = 0.15
YEAR = timedelta(weeks=52)
COMPARABLE = "comparable_stores"
SEASONAL = "pre_period_seasonal"
PAIR = ["item_id", "location_id"]


@dataclass(frozen=True)
class SeasonIndex:
    """Category demand multiplier per week and how each week was read."""

    index: dict[date, float]
    method: dict[date, str]


def flag_clean(panel: pl.DataFrame) -> pl.DataFrame:
    """Adds `dip`, `exposed` and `clean` to a category's weekly panel."""
    promo_at_location = panel.group_by(["location_id", "week"]).agg(
        pl.col("on_promo").sum().alias("promoted_here")
    )
    ordered = panel.sort([*PAIR, "week"])
    return (
        ordered.with_columns(
            pl.col("on_promo").shift(1).over(PAIR).fill_null(False).alias("promo_before")
        )
        .join(promo_at_location, on=["location_id", "week"], how="left")
        .with_columns(
            (pl.col("promo_before") & ~pl.col("on_promo")).alias("dip"),
            (~pl.col("on_promo") & (pl.col("promoted_here") > 0)).alias("exposed"),
        )
        .with_columns(
            (~pl.col("on_promo") & ~pl.col("dip") & ~pl.col("exposed") & ~pl.col("stockout")).alias(
                "clean"
            )
        )
        .drop("promo_before", "promoted_here")
    )


def season_index(flagged: pl.DataFrame) -> SeasonIndex:
    """Weekly multiplier of the category, from clean cells (two passes to settle levels)."""
    weeks = sorted(flagged["week"].unique().to_list())
    clean = flagged.filter(pl.col("clean"))
    season = dict.fromkeys(weeks, 1.0)
    readable: set[date] = set()
    for _ in range(2):
        weights = pl.DataFrame(
            {"week": list(season), "season": list(season.values())},
            schema={"week": pl.Date, "season": pl.Float64},
        )
        levels = (
            clean.join(weights, on="week")
            .group_by(PAIR)
            .agg((pl.col("units").sum() / pl.col("season").sum()).alias("level"))
        )
        per_week = (
            clean.join(levels, on=PAIR)
            .group_by("week")
            .agg(pl.col("units").sum(), pl.col("level").sum())
        )
        usual = float(np.median(per_week["level"].to_numpy())) if per_week.height else 0.0
        season, readable = _read_weeks(weeks, per_week, usual)
    method = {week: COMPARABLE if week in readable else SEASONAL for week in weeks}
    return SeasonIndex(season, method)


def covering_days(season: SeasonIndex, week_shares: dict[date, float]) -> SeasonIndex:
    """Scales the weeks read a year apart to the share of the week their cells cover.

    A week read from comparable stores needs nothing: those stores' cells cover the
    same days, so the reading already is the days' share. A week read a year apart is
    a whole week's; its cells cover `share` of it (days / 7, the shop's days counted
    alike, since the weekly history cannot tell one weekday from another).
    """
    index = dict(season.index)
    for week, share in week_shares.items():
        if week in index and season.method[week] == SEASONAL:
            index[week] *= share
    return SeasonIndex(index, season.method)


def _read_weeks(
    weeks: list[date], per_week: pl.DataFrame, usual: float
) -> tuple[dict[date, float], set[date]]:
    measured = {
        week: units / level
        for week, units, level in per_week.select("week", "units", "level").iter_rows()
        if level > MIN_COMPARABLE_SHARE * usual and level > 0
    }
    season: dict[date, float] = {}
    for week in weeks:
        if week in measured:
            season[week] = measured[week]
            continue
        # No clean store this week: the same week a year apart, else the neighbours.
        apart = [measured[w] for w in (week - YEAR, week + YEAR) if w in measured]
        season[week] = float(np.mean(apart)) if apart else _interpolated(week, measured)
    return season, set(measured)


def _interpolated(week: date, measured: dict[date, float]) -> float:
    if not measured:
        return 1.0
    known = sorted(measured)
    x = np.array([(w - known[0]).days for w in known], dtype=np.float64)
    y = np.log([max(measured[w], 1e-6) for w in known])
    return float(np.exp(np.interp((week - known[0]).days, x, y)))


def pair_levels(flagged: pl.DataFrame, season: SeasonIndex, start: date, end: date) -> pl.DataFrame:
    """Deseasonalised weekly level per pair from its pre-period (else the period after)."""
    weights = pl.DataFrame(
        {"week": list(season.index), "season": list(season.index.values())},
        schema={"week": pl.Date, "season": pl.Float64},
    )
    clean = flagged.filter(pl.col("clean")).join(weights, on="week")
    before = clean.filter(
        (pl.col("week") < start) & (pl.col("week") >= start - timedelta(weeks=PRE_PERIOD_WEEKS))
    )
    after = clean.filter(
        (pl.col("week") > end + timedelta(weeks=1))
        & (pl.col("week") <= end + timedelta(weeks=1 + PRE_PERIOD_WEEKS))
    )
    whole = clean
    readings = []
    for label, frame in (("pre_period", before), ("post_period", after), ("history", whole)):
        readings.append(
            frame.group_by(PAIR).agg(
                (pl.col("units").sum() / pl.col("season").sum()).alias("level"),
                pl.len().alias("weeks"),
                pl.lit(label).alias("level_from"),
            )
        )
    # Prefer the pre-period; a pair with too few clean weeks there takes the next reading.
    ranked = pl.concat(readings).with_columns(
        pl.col("level_from")
        .replace_strict({"pre_period": 0, "post_period": 1, "history": 2}, return_dtype=pl.Int64)
        .alias("rank")
    )
    enough = ranked.filter((pl.col("weeks") >= MIN_CLEAN_WEEKS) | (pl.col("rank") == 2))
    return enough.sort("rank").group_by(PAIR, maintain_order=True).first().drop("rank")


def baseline(cells: pl.DataFrame, levels: pl.DataFrame, season: SeasonIndex) -> pl.DataFrame:
    """Adds `baseline_units` and `method` to `cells` (item_id, location_id, week, ...)."""
    weights = pl.DataFrame(
        {
            "week": list(season.index),
            "season": list(season.index.values()),
            "method": [season.method[w] for w in season.index],
        },
        schema={"week": pl.Date, "season": pl.Float64, "method": pl.Utf8},
    )
    return (
        cells.join(levels.select(*PAIR, "level", "level_from"), on=PAIR, how="left")
        .join(weights, on="week", how="left")
        .with_columns(
            (pl.col("level").fill_null(0.0) * pl.col("season").fill_null(1.0)).alias(
                "baseline_units"
            )
        )
        .drop("level", "season")
    )

"""Features the global demand model learns from, built on a normalised panel.

Lags and rolling statistics of the target are mlforecast's job (model.py); this
module prepares what mlforecast cannot know:

- complete series: every position from a series' first period to the cutoff,
  so lags count periods, not rows, when a retailer's file has gaps;
- censoring: a stockout week's sales understate demand. An unpromoted one
  trains on (and feeds later lags with) its unconstrained demand, the expected
  demand given that it reached at least what sold (censoring.py); dropping it
  instead leaves only the weeks whose demand stayed low and teaches a level
  that is too low. A promoted one feeds later lags with at least the usual
  lift and keeps what it sold (`STOCKOUT_SALES`): its demand hangs on the lift
  being learnt, so the model unconstrains it once it has one (model.py); a
  period with no sales figure gets zero weight;
- calendar: week of year, Christmas distance, Black Friday and Easter weeks
  (fixed retail peaks; the `holidays` package knows public holidays per
  country, which a weekly retail calendar needs less than these peaks);
- promotion history: weeks since the last promotion and the share of recent
  weeks promoted, so the model can tell a promotion spike in its lags from a
  change of level and can learn the post-promotion dip;
- relative price: each price column over the series' usual price;
- season: with a category (`PanelSpec.category_col`) and dated periods, each
  row's seasonal index, the category's demand in that week of the year over its
  average (`season_profile`). The model learns demand over scale x season, so
  the trees need not rebuild every category's year from one noisy lag 52 per
  item and store; summed over a category's series a week's index is nearly free
  of noise.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import NamedTuple

import polars as pl
from dateutil.easter import easter

from promoflow.forecasting import censoring
from promoflow.forecasting.panel import PanelSpec

ID = "unique_id"
DS = "ds"
WEIGHT = "weight"
PROMO_ANY = "promo_any"
LEVEL_ALPHA = 0.25
DEFAULT_PROMO_RATIO = 1.5
PROMO_MEMORY = 13
SCALE_WEEKS = 13
# What a promoted stockout week sold (null elsewhere): a lower bound on its demand.
STOCKOUT_SALES = "stockout_sales"
SEASON = "season"
WEEK_OF_YEAR = "week_of_year"
# A category's weekly index is sum(demand) / sum(series level) over its series,
# with this many units of level added at index 1: a category of a handful of
# slow series stays near 1, one of a thousand is measured.
SEASON_PRIOR_UNITS = 20.0
WEEKS_IN_YEAR = 53  # ISO weeks: 52, sometimes 53


class Imputed(NamedTuple):
    """A history with training targets and weights, and what the imputation learnt."""

    frame: pl.DataFrame
    promo_ratio: float
    dispersion: float  # negative binomial 1 / shape of clean weeks (censoring.dispersion)


def promo_flag(spec: PanelSpec) -> pl.Expr:
    """True where any promotion column is non-zero."""
    if not spec.promo_cols:
        return pl.lit(value=False)
    return pl.any_horizontal([pl.col(c).fill_null(0) != 0 for c in spec.promo_cols])


def complete_series(frame: pl.DataFrame, spec: PanelSpec, last_ds: int) -> pl.DataFrame:
    """Every position from each series' first period to `last_ds`; added rows are unobserved.

    On added rows promotion columns are 0 (no promotion is known), other covariates
    and static columns carry the series' neighbouring values.
    """
    known = frame.filter(pl.col(DS) <= last_ds)
    spans = known.group_by(ID).agg(
        pl.col(DS).min().alias("first_ds"), pl.col(DS).n_unique().alias("periods")
    )
    if (spans["periods"] == last_ds - spans["first_ds"] + 1).all():
        full = known.sort(ID, DS)  # nothing missing (most files): skip the grid join
    else:
        grid = (
            spans.with_columns(pl.int_ranges("first_ds", last_ds + 1).alias(DS))
            .explode(DS)
            .select(ID, pl.col(DS).cast(pl.Int64))
        )
        full = grid.join(known, on=[ID, DS], how="left").sort(ID, DS)
    carried = [c for c in (*spec.known_covariates, *spec.static_cols) if c not in spec.promo_cols]
    return full.with_columns(
        pl.col("censored").fill_null(value=False),
        *[pl.col(c).fill_null(0.0) for c in spec.promo_cols],
        *[
            pl.col(c).forward_fill().backward_fill().over(ID)
            for c in carried
            if full[c].null_count()
        ],
    )


def impute_censored(frame: pl.DataFrame, spec: PanelSpec, *, ratio: float | None = None) -> Imputed:
    """Training target and weight for stockout and unobserved periods (see module docstring).

    The demand estimate is the series' smoothed level of clean unpromoted weeks
    (before the period, so no look-ahead), times the typical promotion ratio on
    promoted weeks (learnt here unless `ratio` is given). Returns the frame and
    the ratio and the dispersion of clean weeks.
    """
    observed = pl.col("y").is_not_null() & ~pl.col("censored")
    promoted = promo_flag(spec)
    marked = frame.with_columns(
        observed.alias("_observed"),
        promoted.alias("_promoted"),
        pl.when(observed & ~promoted).then(pl.col("y")).alias("_clean"),
    ).with_columns(
        pl.col("_clean")
        .ewm_mean(alpha=LEVEL_ALPHA, adjust=False, ignore_nulls=True)
        .forward_fill()
        .shift(1)
        .backward_fill()
        .over(ID)
        .alias("_level")
    )
    if ratio is None:
        ratios = marked.filter(pl.col("_observed") & pl.col("_promoted") & (pl.col("_level") > 0))
        ratio = (
            float(ratios.select((pl.col("y") / pl.col("_level")).median()).item())
            if ratios.height
            else DEFAULT_PROMO_RATIO
        )
    estimated = marked.with_columns(
        (
            pl.col("_level").fill_null(0.0)
            * pl.when(pl.col("_promoted")).then(ratio).otherwise(1.0)
        ).alias("_estimate")
    )
    phi = _dispersion(estimated)
    unconstrained = _unconstrained(estimated, phi)
    # Unpromoted stockouts are unconstrained around the series' level; a promoted
    # one's demand hangs on the lift being learnt, so it waits for the model
    # (weight 0 here, STOCKOUT_SALES kept) and feeds later lags with at least the
    # usual lift.
    sold_out = pl.col("y").is_not_null() & ~pl.col("_observed")
    imputed = estimated.with_columns(
        pl.when(pl.col("_observed"))
        .then(pl.col("y"))
        .when(sold_out & ~pl.col("_promoted"))
        .then(unconstrained)
        .when(sold_out)
        .then(pl.max_horizontal(pl.col("y"), pl.col("_estimate")))
        .otherwise(pl.col("_estimate"))
        .alias("y"),
        (pl.col("_observed") | (sold_out & ~pl.col("_promoted"))).cast(pl.Float64).alias(WEIGHT),
        pl.when(sold_out & pl.col("_promoted")).then(pl.col("y")).alias(STOCKOUT_SALES),
    )
    return Imputed(
        imputed.drop("_observed", "_promoted", "_clean", "_level", "_estimate"), ratio, phi
    )


def _dispersion(estimated: pl.DataFrame) -> float:
    clean = estimated.filter(pl.col("_observed") & ~pl.col("_promoted") & (pl.col("_level") > 0))
    return censoring.dispersion(clean["y"], clean["_level"])


def _unconstrained(estimated: pl.DataFrame, phi: float) -> pl.Series:
    """E[demand | demand >= sales] on every row (used on stockout rows only)."""
    sold = estimated["y"].fill_null(0.0).to_numpy()
    stockout = (estimated["censored"] & estimated["y"].is_not_null()).to_numpy()
    values = sold.copy()
    values[stockout] = censoring.expected_demand_at_least(
        sold[stockout], estimated["_estimate"].to_numpy()[stockout], phi
    )
    return pl.Series("y", values, dtype=pl.Float64)


def promotion_history(timeline: pl.DataFrame, spec: PanelSpec) -> pl.DataFrame:
    """Add promo_any, weeks_since_promo and promo_share_13 (known ahead: promotions are planned)."""
    last_promo = pl.when(pl.col(PROMO_ANY) > 0).then(pl.col(DS))
    return (
        timeline.sort(ID, DS)
        .with_columns(promo_flag(spec).cast(pl.Float64).alias(PROMO_ANY))
        .with_columns(
            (pl.col(DS) - last_promo.shift(1).forward_fill().over(ID))
            .fill_null(PROMO_MEMORY)
            .clip(0, PROMO_MEMORY)
            .cast(pl.Float64)
            .alias("weeks_since_promo"),
            pl.col(PROMO_ANY)
            .shift(1)
            .rolling_mean(PROMO_MEMORY, min_samples=1)
            .fill_null(0.0)
            .over(ID)
            .alias("promo_share_13"),
        )
    )


def season_profile(
    history: pl.DataFrame, spec: PanelSpec, calendar: pl.DataFrame
) -> pl.DataFrame | None:
    """Seasonal index per category and ISO week: columns <category_col>, week_of_year, season.

    From the learnt (weight > 0) unpromoted weeks of `history`, preferring weeks
    with no promotion around either (`promo_context_cols`, where siblings are
    cannibalised) when a week has enough of them: each week's
    sum(demand) / sum(series' mean demand), averaged per ISO week over the years,
    smoothed with its neighbours (1/4, 1/2, 1/4, around the year) and divided by
    its mean. None without a category column or dated periods; a category is
    left out (index 1) until its history spans a year, since a partial year
    cannot say which weeks are high.
    """
    group = spec.category_col
    if group is None or calendar.schema["period"] not in (pl.Date(), pl.Datetime()):
        return None
    context = (
        pl.any_horizontal([pl.col(c).fill_null(0) != 0 for c in spec.promo_context_cols])
        if spec.promo_context_cols
        else pl.lit(value=False)
    )
    weeks = calendar.select(DS, pl.col("period").cast(pl.Date).dt.week().alias(WEEK_OF_YEAR))
    usable = history.filter((pl.col(WEIGHT) > 0) & ~promo_flag(spec)).select(
        ID, DS, group, "y", context.alias("_context")
    )
    levels = usable.group_by(ID).agg(pl.col("y").mean().alias("_level"))
    clean = ~pl.col("_context")
    per_week = (
        usable.join(levels, on=ID)
        .group_by(group, DS)
        .agg(
            pl.col("y").sum().alias("_y"),
            pl.col("_level").sum().alias("_lv"),
            pl.col("y").filter(clean).sum().alias("_y_clean"),
            pl.col("_level").filter(clean).sum().alias("_lv_clean"),
            pl.len().alias("_n"),
            clean.sum().alias("_n_clean"),
        )
        .with_columns(
            pl.when(pl.col("_n_clean") >= pl.max_horizontal(10, pl.col("_n") / 4))
            .then(_shrunk("_y_clean", "_lv_clean"))
            .otherwise(_shrunk("_y", "_lv"))
            .alias("_ratio")
        )
        .join(weeks, on=DS)
    )
    by_week = per_week.group_by(group, WEEK_OF_YEAR).agg(pl.col("_ratio").mean())
    whole_year = by_week.group_by(group).agg(
        (pl.col(WEEK_OF_YEAR).filter(pl.col(WEEK_OF_YEAR) <= 52).n_unique() == 52).alias("_year")
    )
    profiles = []
    for key, frame in by_week.join(whole_year.filter("_year"), on=group, how="semi").group_by(
        group, maintain_order=True
    ):
        profiles.append(_smoothed_year(key[0], frame, group))
    if not profiles:
        return None
    return pl.concat(profiles)


def _shrunk(demand: str, level: str) -> pl.Expr:
    return (pl.col(demand) + SEASON_PRIOR_UNITS) / (pl.col(level) + SEASON_PRIOR_UNITS)


def _smoothed_year(key: object, weeks: pl.DataFrame, group: str) -> pl.DataFrame:
    """One category's index for ISO weeks 1-53: smoothed around the year, mean 1."""
    ratio = dict(zip(weeks[WEEK_OF_YEAR].to_list(), weeks["_ratio"].to_list(), strict=True))
    if WEEKS_IN_YEAR not in ratio:  # most years have no week 53: it sits between 52 and 1
        ratio[WEEKS_IN_YEAR] = (ratio[52] + ratio[1]) / 2
    raw = [ratio[w] for w in range(1, WEEKS_IN_YEAR + 1)]
    n = len(raw)
    smoothed = [0.25 * raw[w - 1] + 0.5 * raw[w] + 0.25 * raw[(w + 1) % n] for w in range(n)]
    mean = sum(smoothed[:52]) / 52
    return pl.DataFrame(
        {
            group: [key] * n,
            WEEK_OF_YEAR: list(range(1, n + 1)),
            SEASON: [v / mean for v in smoothed],
        },
        schema_overrides={WEEK_OF_YEAR: pl.Int8},
    )


def with_season(
    timeline: pl.DataFrame,
    spec: PanelSpec,
    calendar: pl.DataFrame,
    profile: pl.DataFrame | None,
) -> pl.DataFrame:
    """`timeline` with its rows' seasonal index (`SEASON`; 1 without a profile or category)."""
    rows = timeline.drop(SEASON, strict=False)
    if profile is None or spec.category_col is None:
        return rows.with_columns(pl.lit(1.0).alias(SEASON))
    weeks = calendar.select(
        DS, pl.col("period").cast(pl.Date).dt.week().cast(pl.Int8).alias(WEEK_OF_YEAR)
    )
    group = spec.category_col
    keyed = profile.with_columns(pl.col(group).cast(rows.schema[group]))
    return (
        rows.join(weeks.rename({WEEK_OF_YEAR: "_woy"}), on=DS, how="left")
        .join(keyed, left_on=[group, "_woy"], right_on=[group, WEEK_OF_YEAR], how="left")
        .with_columns(pl.col(SEASON).fill_null(1.0))
        .drop("_woy")
    )


def series_scales(history: pl.DataFrame, spec: PanelSpec) -> pl.DataFrame:
    """Each series' recent unpromoted weekly demand (`series_scale`, at least 0.1).

    The model learns demand in multiples of this scale, so a promotion's lift
    looks the same on a slow mover and a best seller and the trees can pool it.
    Recent weeks, not the whole history: trees cannot extrapolate, so a series
    whose level moved must look like 1 x scale now, not like an outlier.
    """
    learnt = history.filter(pl.col(WEIGHT) > 0)
    if SEASON in history.columns:  # the level the seasonal index multiplies
        learnt = learnt.with_columns(pl.col("y") / pl.col(SEASON))
    newest_first = pl.col(DS).rank("ordinal", descending=True).over(ID)
    clean = (
        learnt.filter(~promo_flag(spec))
        .filter(newest_first <= SCALE_WEEKS)
        .group_by(ID)
        .agg(pl.col("y").mean().alias("_clean"))
    )
    anyrow = history.group_by(ID).agg(pl.col("y").mean().alias("_any"))
    return anyrow.join(clean, on=ID, how="left").select(
        ID,
        pl.coalesce("_clean", "_any").fill_null(1.0).clip(lower_bound=0.1).alias("series_scale"),
    )


def cross_item(timeline: pl.DataFrame, spec: PanelSpec) -> pl.DataFrame:
    """Add the item's own promotion depth history and, with siblings, what they do that period.

    `timeline` has promotion history (PROMO_ANY) and relative prices. Depth is
    1 - the first price column over its usual price on a promoted row (0 else).

    - `last_promo_depth`: the depth of the series' last promotion before this row;
    - with sibling columns (`PanelSpec.sibling_cols`: series sharing a category,
      or a category and a store): `sibling_price_index`, the row's relative price
      over the mean relative price of its siblings in the same period (below 1:
      cheaper than usual against them); `sibling_promo_share`, the share of them
      on promotion; `sibling_depth`, their mean depth. 1, 0 and 0 without siblings.

    Every input is a known covariate of the same period, so these are known for
    the forecast horizon as they are for history. A forecast for a subset of
    series sees only the siblings it is given.
    """
    prices = price_columns(spec)
    relative = pl.col(f"{prices[0]}_rel") if prices else pl.lit(1.0)
    promoted = pl.col(PROMO_ANY) > 0
    depth = pl.when(promoted).then((1.0 - relative).clip(0.0, 1.0)).otherwise(0.0)
    rows = (
        timeline.sort(ID, DS)
        .with_columns(depth.alias("_depth"), relative.alias("_rel"))
        .with_columns(
            pl.when(promoted)
            .then(pl.col("_depth"))
            .shift(1)
            .forward_fill()
            .fill_null(0.0)
            .over(ID)
            .alias("last_promo_depth")
        )
    )
    keys = list(spec.sibling_cols)
    if not keys:
        return rows.drop("_depth", "_rel")
    within = [*keys, DS]
    others = pl.len().over(within) - 1
    alone = others == 0

    def mean_of_others(column: str) -> pl.Expr:
        return (pl.col(column).sum().over(within) - pl.col(column)) / others

    return rows.with_columns(
        pl.when(alone)
        .then(1.0)
        .otherwise(pl.col("_rel") / mean_of_others("_rel"))
        .fill_nan(1.0)
        .alias("sibling_price_index"),
        pl.when(alone).then(0.0).otherwise(mean_of_others(PROMO_ANY)).alias("sibling_promo_share"),
        pl.when(alone).then(0.0).otherwise(mean_of_others("_depth")).alias("sibling_depth"),
    ).drop("_depth", "_rel")


def price_columns(spec: PanelSpec) -> list[str]:
    """Known covariates that are prices (by name), which get a relative-price feature."""
    return [c for c in spec.known_covariates if "price" in c.lower()]


def usual_prices(history: pl.DataFrame, spec: PanelSpec) -> pl.DataFrame:
    """Each series' median price on unpromoted rows (all rows if never unpromoted)."""
    columns = price_columns(spec)
    if not columns:
        return history.select(ID).unique()
    regular = history.filter(~promo_flag(spec))
    source = regular if regular.height else history
    usual = source.group_by(ID).agg(pl.col(c).median().alias(f"_usual_{c}") for c in columns)
    fallback = history.group_by(ID).agg(pl.col(c).median().alias(f"_any_{c}") for c in columns)
    return fallback.join(usual, on=ID, how="left").select(
        ID, *[pl.coalesce(f"_usual_{c}", f"_any_{c}").alias(f"_usual_{c}") for c in columns]
    )


def relative_prices(timeline: pl.DataFrame, spec: PanelSpec, usual: pl.DataFrame) -> pl.DataFrame:
    """Add `<price>_rel` = price / the series' usual price (1 when unknown)."""
    columns = price_columns(spec)
    if not columns:
        return timeline
    joined = timeline.join(usual, on=ID, how="left")
    return joined.with_columns(
        (pl.col(c) / pl.col(f"_usual_{c}")).fill_nan(1.0).fill_null(1.0).alias(f"{c}_rel")
        for c in columns
    ).drop(f"_usual_{c}" for c in columns)


def calendar_features(calendar: pl.DataFrame) -> pl.DataFrame:
    """Per ds: week of year, weeks to Christmas, Black Friday and Easter weeks (dates only)."""
    periods = calendar["period"].cast(pl.Date).to_list()
    rows = [_calendar_row(day) for day in periods]
    return pl.DataFrame(
        {
            DS: calendar[DS],
            "week_of_year": [r[0] for r in rows],
            "weeks_to_christmas": [r[1] for r in rows],
            "black_friday_week": [r[2] for r in rows],
            "easter_week": [r[3] for r in rows],
        },
        schema={
            DS: pl.Int64,
            "week_of_year": pl.Float64,
            "weeks_to_christmas": pl.Float64,
            "black_friday_week": pl.Float64,
            "easter_week": pl.Float64,
        },
    )


def _calendar_row(day: date) -> tuple[float, float, float, float]:
    christmas = date(day.year, 12, 25)
    if (christmas - day).days < -7:
        christmas = date(day.year + 1, 12, 25)
    november_first = date(day.year, 11, 1)
    thanksgiving = november_first + timedelta(days=(3 - november_first.weekday()) % 7 + 21)
    black_friday = thanksgiving + timedelta(days=1)
    return (
        float(day.isocalendar().week),
        float(min(max((christmas - day).days / 7.0, -1.0), 8.0)),
        float(0 <= (black_friday - day).days < 7),
        float(0 <= (easter(day.year) - day).days < 7),
    )


def future_calendar(calendar: pl.DataFrame, steps: int) -> pl.DataFrame:
    """The calendar extended `steps` periods past its end at its usual spacing."""
    if steps <= 0 or calendar.height < 2:
        return calendar
    last = calendar.tail(1)
    spacing = calendar["period"].diff().drop_nulls().mode().sort().item(0)
    extra = pl.DataFrame(
        {
            DS: [int(last[DS].item()) + k for k in range(1, steps + 1)],
            "period": [last["period"].item() + spacing * k for k in range(1, steps + 1)],
        },
        schema=calendar.schema,
    )
    return pl.concat([calendar, extra])

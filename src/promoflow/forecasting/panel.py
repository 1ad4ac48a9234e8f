"""A retailer's sales history as a panel of series: the shape every forecaster reads.

Any retailer's file (or our weekly_sales table) becomes a `Panel`: one row per
series x period with

- `unique_id` (String): the series, the id columns joined with "|";
- `ds` (Int64): the period's position in the data's own calendar, the sorted
  distinct periods of the whole file, so dates and integers, weekly or not, with
  or without gaps, all become 0, 1, 2, ...; a series may skip positions;
- `y` (Float64): the target, null where the period was not observed;
- `censored` (Boolean): sales were capped by stock, so `y` understates demand;
- every known covariate (Float64; booleans become 0/1);
- every static column (as given: strings stay strings).

`calendar` maps each `ds` back to the original period value.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

SERIES_SEPARATOR = "|"


@dataclass(frozen=True)
class PanelSpec:
    """Which columns of a file mean what."""

    id_cols: tuple[str, ...]
    time_col: str
    target: str
    # Known in advance for the forecast horizon (price, promotion flags, ...).
    known_covariates: tuple[str, ...] = ()
    # The subset of known covariates that describe the promotion; switching them
    # off (0) gives the baseline, the counterfactual without the promotion.
    promo_cols: tuple[str, ...] = ()
    # Constant within a series (store format, region, ...).
    static_cols: tuple[str, ...] = ()
    # Boolean: the period's sales were capped by stock (a stockout).
    censor_col: str | None = None
    # Known covariates that describe the same event around the series (e.g. how
    # many other items of the category it promotes). They do not make a row
    # promoted, but the baseline switches them off too: no event, no siblings.
    promo_context_cols: tuple[str, ...] = ()
    # A static column grouping series that share a season and respond alike to a
    # price cut (a category): with dated periods the model measures each value's
    # seasonal index (features.season_profile), and the lift prior learns a price
    # elasticity per value (lift_prior.py).
    category_col: str | None = None
    # Static columns whose shared values make series siblings (a category, or a
    # category and a store): with them the model sees each row's price against
    # its siblings' in the same period, how many of them are on promotion and
    # how deep (features.cross_item). Empty: the category column, if any.
    group_cols: tuple[str, ...] = ()

    @property
    def sibling_cols(self) -> tuple[str, ...]:
        """The columns that group siblings: `group_cols`, else the category, else none."""
        if self.group_cols:
            return self.group_cols
        return (self.category_col,) if self.category_col else ()


@dataclass(frozen=True)
class Panel:
    """A normalised panel (see the module docstring) with its calendar."""

    spec: PanelSpec
    frame: pl.DataFrame
    calendar: pl.DataFrame  # columns ds (Int64), period (the file's own type)

    @property
    def periods_are_dates(self) -> bool:
        """True when the calendar holds dates (calendar features are possible)."""
        return self.calendar.schema["period"] in (pl.Date(), pl.Datetime())

    def promo_mask(self, frame: pl.DataFrame | None = None) -> pl.Series:
        """True on rows where any promotion column is non-zero."""
        rows = self.frame if frame is None else frame
        if not self.spec.promo_cols:
            return pl.Series("on_promotion", [False] * rows.height, dtype=pl.Boolean)
        return rows.select(
            pl.any_horizontal([pl.col(c).fill_null(0) != 0 for c in self.spec.promo_cols]).alias(
                "on_promotion"
            )
        ).to_series()

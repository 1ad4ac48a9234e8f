"""The two real retail panels of ../shared/data/real as promoflow panels, declared once.

Both files come from the R package bayesm (see that folder's README; cite its
sources with any figure). Neither marks promotions, so a week is *on promotion*
here by a rule fixed before any model was tuned, the same for both panels and
for every model:

- `deal_depth`: the price is at least 10 % below the series' regular price,
  the highest price of its last 8 weeks, this one included (the usual
  definition of a temporary price reduction on scanner data; it looks at past
  and current prices only, which a planner knows ahead); the depth, else 0;
- `on_display`: at least 10 % of the volume (cheese: % ACV; tuna: NSALE) was
  on display; the share, else 0. `display` itself stays a covariate.

Covariates are what a planner knows ahead of the week: own price, display,
and for tuna every product's price that week (the chain sets them). Tuna's
store traffic (FULLCUST) is the week's realised customer count, not known
ahead, so no model sees it. The orange-juice panel of the same package is
kept as an independent check and is never read here.

Tuna's `week` runs 1..398 with 60 weeks absent from the file (338 distinct
weeks, not 1..338 as the data README says): Dominick's own week numbers, which
the Kilts Center's week table dates (week 1 starts Thursday 1989-09-14, week
398 on 1997-04-24; github.com/eurostat/dff, CSV/weeks.csv), so each week gets
its start date. Dates let the model measure the category's season (tuna peaks
in Lent, the subject of the panel's source paper) and place Easter; with
integer weeks it cannot. Origins count the file's distinct weeks: a 13-period
horizon may span a few more calendar weeks where weeks are absent. The
cheese accounts' counters are not aligned, so cheese stays on integer weeks.

Rolling origins: `DEV` are the cutoffs the recipe was developed on; `FINAL` is
each real panel's last origin, run once when the recipe was settled
(`forecast_real.py --final`), never while choosing it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

import polars as pl

from promoflow.forecasting.dataset import LoadedPanel, build_panel
from promoflow.forecasting.panel import PanelSpec

REAL = Path(__file__).resolve().parents[2] / "shared" / "data" / "real"
DEAL_THRESHOLD = 0.10
DISPLAY_THRESHOLD = 0.10
REGULAR_PRICE_WEEKS = 8
PRODUCTS = range(1, 8)
DOMINICKS_WEEK_ONE = date(1989, 9, 14)


@dataclass(frozen=True)
class Origins:
    """A panel's horizon, its development origins (last cutoff, count, step) and final cutoff."""

    horizon: int
    last_dev_cutoff: int
    dev_origins: int
    final_cutoff: int


# Cheese: accounts have 52, 61 or 68 weeks on their own counters (not aligned);
# cutoffs are week numbers and stop where 87 of the 88 accounts still have
# weeks to score (weeks 62-68 of 28 accounts are never scored).
CHEESE = Origins(horizon=8, last_dev_cutoff=45, dev_origins=4, final_cutoff=53)
# Tuna: 338 distinct weeks, aligned across products; cutoffs are positions in
# them (the 312th and 325th week of the file); 13 periods ahead, six
# development origins.
TUNA = Origins(horizon=13, last_dev_cutoff=312, dev_origins=6, final_cutoff=325)


def _promotions(frame: pl.DataFrame, series: str, price: str) -> pl.DataFrame:
    regular = pl.col(price).rolling_max(REGULAR_PRICE_WEEKS, min_samples=1).over(series)
    cut = 1 - pl.col(price) / regular
    # Sorted by the file's own week counter (tuna's dates are added after).
    return frame.sort(series, "week").with_columns(
        pl.when(cut >= DEAL_THRESHOLD).then(cut).otherwise(0.0).alias("deal_depth"),
        pl.when(pl.col("display") >= DISPLAY_THRESHOLD)
        .then(pl.col("display"))
        .otherwise(0.0)
        .alias("on_display"),
    )


def cheese(folder: Path = REAL) -> LoadedPanel:
    """Borden sliced cheese, 88 retailer accounts: units, display, price."""
    raw = _promotions(pl.read_csv(folder / "cheese.csv"), "retailer", "price")
    spec = PanelSpec(
        id_cols=("retailer",),
        time_col="week",
        target="units",
        known_covariates=("price", "display", "deal_depth", "on_display"),
        promo_cols=("deal_depth", "on_display"),
    )
    return build_panel(raw, spec)


def tuna(folder: Path = REAL) -> LoadedPanel:
    """Dominick's canned tuna, 7 products, 338 weeks: units, display, own and rival prices."""
    raw = pl.read_csv(folder / "tuna_long.csv").with_columns(
        pl.col("log_price").exp().alias("price"),
        *[pl.col(f"log_price_{i}").exp().alias(f"price_{i}") for i in PRODUCTS],
        pl.lit("canned tuna").alias("category"),
        (pl.lit(DOMINICKS_WEEK_ONE) + pl.duration(weeks=pl.col("week") - 1)).alias("week_start"),
    )
    rivals = tuple(f"price_{i}" for i in PRODUCTS)
    spec = PanelSpec(
        id_cols=("product",),
        time_col="week_start",
        target="units",
        known_covariates=("price", "display", "deal_depth", "on_display", *rivals),
        promo_cols=("deal_depth", "on_display"),
        static_cols=("category",),
        category_col="category",
    )
    return build_panel(_promotions(raw, "product", "price"), spec)

"""A promotion lift prior in the SCAN*PRO form: the level the trees correct, and a feature.

SCAN*PRO (Wittink, Addona, Hawkes & Porter, 1988; van Heerde, Leeflang &
Wittink, 2002) is the retail industry's classic promotion model: demand during a
promotion is the regular level times multiplicative effects, a price index
raised to an elasticity and a factor per display, feature and mechanic:

    E[units] = level x price_rel ^ elasticity x prod(factor per promotion column)

Fitted on every promoted week of the history at once (Poisson regression with
the series' level as exposure), it pools what a lift looks like across
categories and mechanics in a handful of coefficients. The trees could learn the
same surface, but only piece by piece from splits, and a promotion whose
combination of depth, mechanic and display they saw rarely came out 20-40 % off
(benchmarks/README.md). The model measures demand against level x prior lift
and also sees the log lift as a feature (`LIFT_PRIOR`, 0 without a promotion),
so the trees learn what the prior does not explain and can bend it where the
data disagree (model.py).

The design: log relative price per price column, plus a deviation per
category (`PanelSpec.category_col`: each category its own elasticity, shrunk
towards the shared one by the ridge penalty); each promotion column as a 0/1
flag, or one flag per value when it holds a handful of integer codes (a
mechanic); an intercept. The per-category columns are sparse (one value per
row), so hundreds of categories cost memory per promoted row, not per category.
scikit-learn's PoissonRegressor fits it: exposure is not one of its arguments,
but a Poisson GLM with offset log(level) is the same fit as one on units / level
weighted by level.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import numpy.typing as npt
import polars as pl
from scipy import sparse  # type: ignore[import-untyped]  # SciPy ships no stubs
from sklearn.linear_model import PoissonRegressor  # type: ignore[import-untyped]

from promoflow.forecasting import censoring
from promoflow.forecasting.features import (
    DS,
    ID,
    LEVEL_ALPHA,
    STOCKOUT_SALES,
    WEIGHT,
    price_columns,
    promo_flag,
)
from promoflow.forecasting.panel import PanelSpec

LIFT_PRIOR = "lift_prior"
# A promotion column with at most this many distinct integer values is a code
# (mechanic 1..5), one flag per value; otherwise a number (a depth, a count).
MAX_CODES = 12
# Relative prices outside these bounds are data errors, not promotions.
PRICE_BOUNDS = (0.05, 2.0)
RIDGE = 1e-4
MIN_PROMOTED_ROWS = 50
EM_ROUNDS = 3


@dataclass(frozen=True)
class LiftPrior:
    """Fitted coefficients, and which columns and values they belong to."""

    spec: PanelSpec
    price_cols: tuple[str, ...]
    codes: dict[str, tuple[float, ...]]  # coded promotion columns and their values
    groups: tuple[Any, ...]  # category values with their own elasticity
    intercept: float
    coef: tuple[float, ...]

    @classmethod
    def fit(cls, engineered: pl.DataFrame, spec: PanelSpec, dispersion: float) -> LiftPrior | None:
        """Fit on the promoted weeks of an engineered history, sold-out ones unconstrained.

        A promoted week that sold out (STOCKOUT_SALES) is the high side of demand;
        left out, the fit would learn lifts that are too low. Its demand is taken
        as E[demand | demand >= sold] under the negative binomial around the
        prior's own forecast, and the fit repeated (EM for censored data,
        EM_ROUNDS rounds from a fit on the weeks that did not sell out). None
        when fewer than MIN_PROMOTED_ROWS promoted weeks have a known level.
        """
        if not spec.promo_cols:
            return None
        leveled = series_level(engineered, spec).filter(promo_flag(spec) & (pl.col("_level") > 0))
        rows = leveled.filter(pl.col(WEIGHT) > 0)
        sold_out = leveled.filter(pl.col(STOCKOUT_SALES).is_not_null())
        if rows.height < MIN_PROMOTED_ROWS:
            return None
        codes = {
            c: tuple(sorted(values))
            for c in spec.promo_cols
            if (values := _codes(rows[c])) is not None
        }
        group = spec.category_col
        groups = tuple(sorted(rows[group].unique().drop_nulls().to_list())) if group else ()
        prior = cls(spec, tuple(price_columns(spec)), codes, groups, 0.0, ())
        prior = prior._refit(rows["y"].to_numpy(), rows)
        for _ in range(EM_ROUNDS if sold_out.height else 0):
            demand = prior.unconstrained(sold_out, dispersion)
            prior = prior._refit(
                np.concatenate([rows["y"].to_numpy(), demand]), pl.concat([rows, sold_out])
            )
        return prior

    def unconstrained(self, sold_out: pl.DataFrame, dispersion: float) -> npt.NDArray[np.float64]:
        """E[demand | demand >= sold] for promoted sold-out weeks (with `_level`)."""
        expected = sold_out["_level"].to_numpy() * np.exp(self._log_lift(sold_out))
        return censoring.expected_demand_at_least(
            sold_out[STOCKOUT_SALES].to_numpy(), expected, dispersion
        )

    def sold_out_demand(self, engineered: pl.DataFrame, dispersion: float) -> pl.DataFrame:
        """unique_id, ds, demand for each promoted week of `engineered` that sold out."""
        sold_out = series_level(engineered, self.spec).filter(
            pl.col(STOCKOUT_SALES).is_not_null() & (pl.col("_level") > 0)
        )
        return sold_out.select(ID, DS).with_columns(
            pl.Series("demand", self.unconstrained(sold_out, dispersion))
        )

    def _refit(self, units: npt.NDArray[np.float64], rows: pl.DataFrame) -> LiftPrior:
        level = rows["_level"].to_numpy()
        model = PoissonRegressor(alpha=RIDGE, max_iter=500)
        model.fit(self._design(rows), units / level, sample_weight=level)
        return replace(
            self, intercept=float(model.intercept_), coef=tuple(float(v) for v in model.coef_)
        )

    def _log_lift(self, rows: pl.DataFrame) -> npt.NDArray[np.float64]:
        return np.asarray(self.intercept + self._design(rows) @ np.asarray(self.coef)).ravel()

    def apply(self, timeline: pl.DataFrame) -> pl.DataFrame:
        """`timeline` (engineered: relative prices present) with LIFT_PRIOR: log lift, 0 if none."""
        promoted = timeline.select(promo_flag(self.spec)).to_series().to_numpy()
        log_lift = np.zeros(timeline.height)
        if promoted.any():
            rows = timeline.filter(pl.Series(promoted))
            log_lift[promoted] = self._log_lift(rows)
        return timeline.with_columns(pl.Series(LIFT_PRIOR, log_lift))

    def _design(self, rows: pl.DataFrame) -> sparse.csr_matrix:
        """Per price column its log, then its log per category; then the promotion columns."""
        blocks: list[Any] = []
        for price in self.price_cols:
            log_price = np.log(rows[f"{price}_rel"].fill_null(1.0).clip(*PRICE_BOUNDS).to_numpy())
            blocks.append(sparse.csr_matrix(log_price[:, None]))
            if self.groups and self.spec.category_col:
                blocks.append(self._per_category(rows[self.spec.category_col], log_price))
        flags: list[npt.NDArray[np.float64]] = []
        for column in self.spec.promo_cols:
            values = rows[column].fill_null(0.0).to_numpy().astype(np.float64)
            if column in self.codes:
                flags.extend((values == v).astype(np.float64) for v in self.codes[column])
            else:
                flags.append(values)
        if flags:
            blocks.append(sparse.csr_matrix(np.column_stack(flags)))
        if not blocks:
            return sparse.csr_matrix((rows.height, 0))
        return sparse.hstack(blocks, format="csr")

    def _per_category(self, category: pl.Series, values: npt.NDArray[np.float64]) -> Any:
        """`values` in the column of each row's category.

        A category the fit never saw takes the mean of the categories' deviations
        (its value spread over every column): the ridge splits each elasticity
        between the shared term and the deviations, so the shared term alone sits
        nearer zero than a typical category.
        """
        index = {g: i for i, g in enumerate(self.groups)}
        position = (
            category.replace_strict(index, default=-1, return_dtype=pl.Int64)
            .fill_null(-1)
            .to_numpy()
        )
        known = position >= 0
        unseen = np.flatnonzero(~known)
        count = len(self.groups)
        rows = np.concatenate([np.flatnonzero(known), np.repeat(unseen, count)])
        columns = np.concatenate([position[known], np.tile(np.arange(count), len(unseen))])
        data = np.concatenate([values[known], np.repeat(values[unseen] / count, count)])
        return sparse.csr_matrix((data, (rows, columns)), shape=(len(values), count))


def _codes(column: pl.Series) -> set[float] | None:
    """The non-zero values of a promotion column if it is a small integer code, else None."""
    values = {float(v) for v in column.drop_nulls().unique().to_list() if v}
    if len(values) > MAX_CODES or len(values) <= 1:
        return None
    if not all(math.isfinite(v) and v == int(v) for v in values):
        return None
    return values


def series_level(frame: pl.DataFrame, spec: PanelSpec) -> pl.DataFrame:
    """Each row's series level: smoothed clean unpromoted demand before it (no look-ahead)."""
    clean = pl.when(~promo_flag(spec) & (pl.col(WEIGHT) > 0)).then(pl.col("y"))
    return frame.sort(ID, DS).with_columns(
        clean.ewm_mean(alpha=LEVEL_ALPHA, adjust=False, ignore_nulls=True)
        .forward_fill()
        .shift(1)
        .over(ID)
        .alias("_level")
    )

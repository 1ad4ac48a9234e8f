"""Unconstraining stockout weeks: the demand a week would have sold with stock on the shelf.

A stockout week's sales are a lower bound on its demand. Leaving such weeks out
of training is not neutral: stock runs out in the weeks whose demand was high,
so the weeks that remain are the low half of the tail and a model learns a level
below the true one (a selection bias that grows with the stockout rate). The
textbook remedy in revenue management ("demand unconstraining", Talluri & van
Ryzin, 2004, ch. 9) replaces each censored observation by its conditional
expectation given that demand reached at least what sold:

    E[D | D >= sold]  with  D ~ NegativeBinomial(mean, dispersion)

where the mean is an uncensored estimate of that week's demand and the
dispersion is learnt from the clean weeks. For a negative binomial with shape r,
d * P(D = d) = mean * P(D' = d - 1) with D' ~ NB(r + 1, same p), so

    E[D | D >= c] = mean * P(D' >= c - 1) / P(D >= c).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import polars as pl
from scipy.stats import nbinom  # type: ignore[import-untyped]  # SciPy ships no stubs

FloatArray = npt.NDArray[np.float64]

# Bounds on the squared coefficient of variation beyond Poisson (1 / shape): from
# nearly Poisson to very lumpy; outside them a handful of series would dominate.
MIN_DISPERSION = 0.01
MAX_DISPERSION = 2.0
DEFAULT_DISPERSION = 0.2
# Far in the tail P(D >= c) underflows; demand is then taken as what sold.
TAIL_FLOOR = 1e-12


def dispersion(observed: pl.Series, expected: pl.Series) -> float:
    """Pooled method-of-moments 1 / shape: Var(D) = mean + dispersion * mean^2.

    `observed` are clean weeks' sales and `expected` their demand estimates.
    """
    mean = expected.to_numpy()
    sales = observed.to_numpy()
    usable = np.isfinite(mean) & np.isfinite(sales) & (mean > 0)
    if usable.sum() < 30:
        return DEFAULT_DISPERSION
    mean, sales = mean[usable], sales[usable]
    excess = float(np.sum((sales - mean) ** 2 - mean))
    return float(np.clip(excess / float(np.sum(mean**2)), MIN_DISPERSION, MAX_DISPERSION))


def expected_demand_at_least(sold: FloatArray, mean: FloatArray, phi: float) -> FloatArray:
    """E[D | D >= sold] for D ~ NB(mean, phi); never less than `sold`."""
    sold = np.asarray(sold, dtype=np.float64)
    mean = np.asarray(mean, dtype=np.float64)
    result = sold.copy()
    usable = np.isfinite(mean) & (mean > 0)
    if not usable.any():
        return result
    shape = 1.0 / phi
    c = np.ceil(sold[usable])
    m = mean[usable]
    p = shape / (shape + m)
    above = nbinom.sf(c - 1, shape, p)  # P(D >= c)
    shifted = nbinom.sf(c - 2, shape + 1, p)  # P(D' >= c - 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        conditional = np.where(above > TAIL_FLOOR, m * shifted / above, c)
    result[usable] = np.maximum(conditional, sold[usable])
    return result

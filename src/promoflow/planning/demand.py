"""Window demand as a count distribution fitted to the forecast's mean and P10–P90 spread.

Our forecaster gives, per item-location, the mean and the P10/P50/P90 of demand summed
over the promo window. Demand is a count, so we fit a negative binomial (NB): it has
two parameters, the mean and the variance (variance = mean + mean²/r), and the two
facts we trust most fix them. The mean is matched exactly. The variance comes from the
P10–P90 spread read as σ = (P90 − P10) / (2·z₀.₉): a Cornish–Fisher expansion shows the
first-order skewness correction moves P10 and P90 by the same amount, so it cancels in
their difference and the normal reading of the spread stays good for skewed counts.
P50 is not needed for a two-parameter fit. Where the spread says the variance is at or
below the mean (the forecaster is more certain than independent shoppers can be), we
use the Poisson, the NB's limit as r → ∞: an under-dispersed count model would trust
the forecaster's narrow band more than retail demand deserves.

Both are Panjer-class distributions, f(k) = (a + b/k)·f(k−1), so the CDF and the partial
expectation Σ k·f(k) at a stock level follow from one short recursion, vectorised over
rows, with the partial expectation in closed form from the last term. For the stock
levels of store item-locations that is several times faster than SciPy's incomplete
beta; larger stock levels use the incomplete beta (NB) or gamma (Poisson).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import special  # type: ignore[import-untyped]  # SciPy ships no stubs

Z90 = 1.2815515655446004  # standard normal 90th percentile
# Above this many units the recursion costs more than SciPy's incomplete beta.
RECURSION_MAX = 96
# exp() underflows near -745; rows starting below this go to the closed forms.
LOG_FLOOR = -700.0
BLOCK_ROWS = 16384  # rows per cache-sized block of the recursion


@dataclass(frozen=True)
class WindowDemand:
    """Fitted demand over the window per row: mean and variance (variance ≥ mean)."""

    mean: np.ndarray
    variance: np.ndarray

    @property
    def negative_binomial(self) -> np.ndarray:
        """True where the row is over-dispersed (NB); False where it is Poisson."""
        return self.variance > self.mean


def fit_window_demand(mean: np.ndarray, p10: np.ndarray, p90: np.ndarray) -> WindowDemand:
    """Fit NB (or Poisson where the spread is at or below Poisson) by mean and P10–P90."""
    sigma = np.maximum(p90 - p10, 0.0) / (2.0 * Z90)
    # A relative margin keeps rows a hair above Poisson from an r of 1e15.
    overdispersed = sigma**2 > mean * (1.0 + 1e-9)
    return WindowDemand(mean=mean, variance=np.where(overdispersed, sigma**2, mean))


def stock_outcomes(demand: WindowDemand, stock: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """P(demand > stock) and expected sales E[min(demand, stock)] per row (stock ≥ 0)."""
    mean, variance = demand.mean, demand.variance
    nb = demand.negative_binomial
    with np.errstate(divide="ignore", invalid="ignore"):
        # Panjer: NB has a = q = 1 − p, b = (r − 1)q = mean²/variance − q; Poisson a = 0,
        # b = mean. f(0) is p^r for the NB, e^−mean for the Poisson.
        a = np.where(nb, 1.0 - mean / variance, 0.0)
        b = np.where(nb, mean * mean / variance - a, mean)
        log_f0 = np.where(nb, mean * mean / (variance - mean) * np.log(mean / variance), -mean)
    units = np.floor(stock)
    # Every row runs the (capped) recursion: cheaper than gathering the few large ones
    # out of a million; those are then overwritten from the closed forms.
    cdf, pmf = _panjer(np.minimum(units, RECURSION_MAX), a, b, np.maximum(log_f0, LOG_FLOOR))
    large = (units > RECURSION_MAX) | (log_f0 < LOG_FLOOR)
    if large.any():
        cdf[large], pmf[large] = _closed_form(units[large], mean[large], variance[large])
    # Σ_{k≤m} k·f(k) = mean·F(m) − (a(m + 1) + b)/(1 − a)·f(m) in the Panjer class
    # (for the NB: mean·F(m) − (q/p)(m + r)·f(m); for the Poisson: mean·(F(m) − f(m))).
    partial = mean * cdf - (a * (units + 1.0) + b) / (1.0 - a) * pmf
    beyond = np.clip(1.0 - cdf, 0.0, 1.0)
    sales = np.clip(partial + stock * beyond, 0.0, np.minimum(mean, stock))
    return beyond, sales


def _panjer(
    units: np.ndarray, a: np.ndarray, b: np.ndarray, log_f0: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """CDF and pmf at `units` per row by the Panjer recursion f(k) = (a + b/k)·f(k−1)."""
    # Rows sorted by stock, largest first, so step k updates a prefix of each block;
    # blocks small enough to stay in cache make the passes over them cheap.
    order = np.argsort(-units.astype(np.int16), kind="stable")
    depth = units[order]
    a, b = a[order], b[order]
    pmf = np.exp(log_f0[order])
    cdf = pmf.copy()
    factor = np.empty_like(pmf)
    for start in range(0, depth.size, BLOCK_ROWS):
        stop = min(start + BLOCK_ROWS, depth.size)
        top = int(depth[start])
        ends = start + np.searchsorted(-depth[start:stop], -np.arange(1, top + 1), side="right")
        for k in range(1, top + 1):
            rows = slice(start, int(ends[k - 1]))
            np.multiply(b[rows], 1.0 / k, out=factor[rows])
            factor[rows] += a[rows]
            pmf[rows] *= factor[rows]
            cdf[rows] += pmf[rows]
    out_cdf, out_pmf = np.empty_like(cdf), np.empty_like(pmf)
    out_cdf[order], out_pmf[order] = cdf, pmf
    return out_cdf, out_pmf


def _closed_form(
    units: np.ndarray, mean: np.ndarray, variance: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """CDF and pmf at `units` per row from the incomplete beta (NB) or gamma (Poisson)."""
    nb = variance > mean
    cdf, pmf = np.empty_like(mean), np.empty_like(mean)
    with np.errstate(divide="ignore", invalid="ignore"):
        m, mu, var = units[nb], mean[nb], variance[nb]
        r, p = mu * mu / (var - mu), mu / var
        cdf[nb] = special.betainc(r, m + 1.0, p)
        pmf[nb] = np.exp(
            special.gammaln(m + r)
            - special.gammaln(r)
            - special.gammaln(m + 1.0)
            + r * np.log(p)
            + m * np.log1p(-p)
        )
        m, mu = units[~nb], mean[~nb]
        cdf[~nb] = special.gammaincc(m + 1.0, mu)
        pmf[~nb] = np.exp(special.xlogy(m, mu) - mu - special.gammaln(m + 1.0))
    return cdf, pmf


def approximate_quantile(demand: WindowDemand, level: float) -> np.ndarray:
    """A Cornish–Fisher quantile of window demand (for placing breakpoints, not for risk)."""
    mean, sd = demand.mean, np.sqrt(demand.variance)
    z = float(special.ndtri(level))
    with np.errstate(divide="ignore", invalid="ignore"):
        skew = np.where(sd > 0, (2.0 * demand.variance / np.maximum(mean, 1e-12) - 1.0) / sd, 0.0)
    quantile: np.ndarray = np.maximum(mean + sd * (z + (z * z - 1.0) * skew / 6.0), 0.0)
    return quantile

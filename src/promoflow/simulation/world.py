"""One seed's world: the grocer, its promotion calendar and every random draw, made once.

Both arms run on the same `Promotion` objects, so shoppers' demand, forecast errors,
approvers' response times, supplier shortfalls and which price files go astray are
the same draws in each (common random numbers): the difference between the arms is
paired. Each promotion has its own random stream, so adding promotions to the
calendar leaves the earlier ones unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

import numpy as np
import numpy.typing as npt
import polars as pl
from scipy import stats  # type: ignore[import-untyped]  # SciPy ships no stubs

from promoflow.approvals.matrix import ApprovalPolicy, PromotionFacts, required_approvals
from promoflow.kit.errors import InvalidInput
from promoflow.scenario.demand import (
    MECHANICS,
    NEGATIVE_BINOMIAL_SHAPE,
    mechanic_code,
    promotion_lift,
    seasonal_index,
)
from promoflow.scenario.estate import BASE_UNITS
from promoflow.scenario.master import MasterData, build_master, stage_rng
from promoflow.simulation.assumptions import SimulationSettings

Floats = npt.NDArray[np.float64]
Ints = npt.NDArray[np.int64]
# A Monday; the calendar's first launch. Seasonality makes the date matter, not its year.
CALENDAR_START = date(2027, 1, 4)
STAGE_CALENDAR = 90  # beyond the scenario's own stage numbers, so streams never collide
DEPTHS = (0.15, 0.2, 0.25, 0.3, 0.35, 0.4)


@dataclass(frozen=True)
class Promotion:
    """One promotion on the calendar and the draws both arms share (items x stores [x days])."""

    code: str
    launch: date
    days: int
    item_ids: tuple[int, ...]
    store_ids: tuple[int, ...]
    depth: float
    unit_cost: Floats  # per item
    regular_price: Floats
    case_pack: Floats
    supplier_index: Ints  # per item
    supplier_lead_days: Ints
    supplier_weekly_capacity: Floats
    lift: Floats  # per item: the promotion's true demand multiplier
    baseline_weekly: Floats  # items x stores, at the launch's season
    store_capacity: Floats  # per store
    demand_on_promotion: Ints  # items x stores x days, shoppers' wants at the promo price
    demand_regular: Ints  # the same shoppers at the regular price
    forecast_mean: Floats  # items x stores, window totals (with the forecast's error)
    forecast_p10: Floats
    forecast_p90: Floats
    store_opening: Floats  # items x stores
    dc_opening: Floats  # per item
    supplier_fill: Floats  # per item: share of an order delivered (1 unless short)
    approval_roles: tuple[str, ...]
    approval_sla_hours: Floats  # per role
    approval_response_hours: Floats  # per role
    approval_handoff_draw: Floats  # per role, exponential(1)
    escalation_response_hours: Floats  # per role
    price_late_draw: Floats  # items x stores, uniform(0, 1)
    price_late_days_draw: Floats  # items x stores, exponential(1)
    price_missing_draw: Floats  # items x stores, uniform(0, 1)

    @property
    def promo_price(self) -> Floats:
        """The advertised price per item."""
        return np.asarray(np.round(self.regular_price * (1.0 - self.depth), 2))


@dataclass(frozen=True)
class World:
    """A seed's calendar of promotions."""

    seed: int
    promotions: tuple[Promotion, ...]


def build_world(
    seed: int, promotions: int, settings: SimulationSettings, approvals: ApprovalPolicy
) -> World:
    """The grocer of `seed` (scenario master data) and its first `promotions` promotions."""
    master = build_master(
        seed=seed,
        stores=settings.stores,
        regions=settings.regions,
        dcs=1,
        skus=settings.skus,
        categories=settings.categories,
        suppliers=settings.suppliers,
    )
    base = _base_rates(seed, master)
    calendar = tuple(
        _promotion(seed, k, master, base, settings, approvals) for k in range(promotions)
    )
    return World(seed=seed, promotions=calendar)


def _base_rates(seed: int, master: MasterData) -> Floats:
    """Weekly units per item x store before season and promotion (the scenario's formula)."""
    rng = stage_rng(seed, STAGE_CALENDAR, 0)
    popularity = master.items["popularity"].to_numpy()
    size = master.stores["size_factor"].to_numpy()
    noise = rng.lognormal(0.0, 0.3, size=(popularity.size, size.size))
    return np.asarray(BASE_UNITS * popularity[:, None] * size[None, :] * noise)


def _promotion(
    seed: int,
    k: int,
    master: MasterData,
    base: Floats,
    settings: SimulationSettings,
    approvals: ApprovalPolicy,
) -> Promotion:
    rng = stage_rng(seed, STAGE_CALENDAR, 1, k)
    items = master.items.with_row_index("row").filter(
        pl.col("promo_eligible") & (pl.col("status") == "active")
    )
    counts = (
        items.group_by("category_index").len().filter(pl.col("len") >= settings.items_per_promotion)
    )
    if counts.is_empty():
        raise InvalidInput(
            "items_per_promotion",
            settings.items_per_promotion,
            "no category has that many promotable items; lower it or raise skus",
        )
    category = int(rng.choice(np.sort(counts["category_index"].to_numpy())))
    pool = items.filter(pl.col("category_index") == category)["row"].to_numpy()
    rows = np.sort(rng.choice(pool, size=settings.items_per_promotion, replace=False))
    chosen = master.items[rows.tolist()]
    regions = master.regions
    picked = rng.choice(len(regions), size=int(rng.integers(1, len(regions) + 1)), replace=False)
    stores = np.flatnonzero(master.stores["region"].is_in([regions[r] for r in picked]).to_numpy())
    mechanic = str(rng.choice(MECHANICS))
    depth = float(rng.choice(DEPTHS))
    display, feature = bool(rng.random() < 0.5), bool(rng.random() < 0.4)
    days = 7 * int(rng.integers(1, 3))
    launch = CALENDAR_START + timedelta(days=k * settings.promotion_spacing_days)
    profile = master.categories[category]

    weeks = np.array([launch + timedelta(days=d) for d in range(0, days, 7)], dtype="datetime64[D]")
    season = seasonal_index(weeks, profile)  # per week of the window
    weekly = base[np.ix_(rows, stores)]
    daily_season = np.repeat(season, 7)[:days]
    regular_mean = weekly[:, :, None] * daily_season[None, None, :] / 7.0
    elasticity = np.clip(profile.elasticity + chosen["elasticity_offset"].to_numpy(), -3.2, -1.2)
    shape = regular_mean.shape
    lift = promotion_lift(
        np.full(shape, depth),
        np.full(shape, mechanic_code(mechanic)),
        np.full(shape, display),
        np.full(shape, feature),
        np.broadcast_to(elasticity[:, None, None], shape).astype(np.float64),
    )
    promo_mean = regular_mean * lift
    # One gamma draw and one uniform per item-store-day, read at either price: the same
    # shopper wants more at the promo price, never fewer (the two demands are coupled).
    k_shape = NEGATIVE_BINOMIAL_SHAPE
    intensity = rng.gamma(k_shape, 1.0 / k_shape, size=shape)
    uniform = np.clip(rng.random(shape), 1e-12, 1 - 1e-12)
    on_promotion = stats.poisson.ppf(uniform, promo_mean * intensity).astype(np.int64)
    regular = stats.poisson.ppf(uniform, regular_mean * intensity).astype(np.int64)

    mean_window = promo_mean.sum(axis=2)
    sigma = settings.forecast_error_sigma
    error = np.exp(rng.normal(-0.5 * sigma**2, sigma, size=mean_window.shape))
    forecast = mean_window * error
    p10, p90 = _window_quantiles(forecast, days)
    baseline_weekly = weekly * float(season.mean())
    n_stores = len(stores)
    regular_price = chosen["regular_price"].to_numpy()
    unit_cost = chosen["unit_cost"].to_numpy()
    promo_price = np.round(regular_price * (1.0 - depth), 2)
    discount = float(((regular_price - promo_price) * forecast.sum(axis=1)).sum())
    funding = discount * settings.vendor_funding_share
    facts = PromotionFacts(
        max_discount_depth=depth,
        margin_impact=Decimal(f"{-discount:.2f}"),
        below_cost_items=int((promo_price < unit_cost).sum()),
        vendor_funding_total=Decimal(f"{funding:.2f}"),
        category=profile.category,
        display_support=display,
        feature_support=feature,
        item_count=len(rows),
        location_count=n_stores,
        categories=(profile.category,),
        forecast_used=True,
    )
    # Draw for every role of the policy, in a fixed order, so the draws never depend on
    # which roles this promotion needs.
    roles = sorted(approvals.roles)
    response = rng.exponential(settings.approver_response_hours, size=len(roles))
    handoff = rng.exponential(1.0, size=len(roles))
    escalation = rng.exponential(settings.escalation_response_hours, size=len(roles))
    required = {r.role: r.sla_hours for r in required_approvals(facts, approvals)}
    needed = [i for i, role in enumerate(roles) if role in required]
    supplier_rows = [master.suppliers[int(s)] for s in chosen["supplier_index"].to_list()]
    short = rng.random(len(rows)) < settings.supply_shortfall_rate
    fill = np.where(short, rng.uniform(0.3, 0.9, size=len(rows)), 1.0)
    return Promotion(
        code=f"SIM-{k + 1:03d}",
        launch=launch,
        days=days,
        item_ids=tuple(int(r) + 1 for r in rows),
        store_ids=tuple(int(s) + 1 for s in stores),
        depth=depth,
        unit_cost=unit_cost,
        regular_price=regular_price,
        case_pack=chosen["case_pack"].to_numpy().astype(np.float64),
        supplier_index=chosen["supplier_index"].to_numpy().astype(np.int64),
        supplier_lead_days=np.array([s["lead_time_days"] for s in supplier_rows], dtype=np.int64),
        supplier_weekly_capacity=np.array(
            [s["weekly_capacity_units"] for s in supplier_rows], dtype=np.float64
        ),
        lift=lift[:, 0, 0].copy(),
        baseline_weekly=baseline_weekly,
        store_capacity=master.stores["capacity_units"].to_numpy()[stores].astype(np.float64),
        demand_on_promotion=on_promotion,
        demand_regular=regular,
        forecast_mean=forecast,
        forecast_p10=p10,
        forecast_p90=p90,
        store_opening=np.round(settings.store_cover_weeks * baseline_weekly),
        dc_opening=np.round(settings.dc_cover_weeks * baseline_weekly.sum(axis=1)),
        supplier_fill=fill,
        approval_roles=tuple(roles[i] for i in needed),
        approval_sla_hours=np.array([required[roles[i]] for i in needed], dtype=np.float64),
        approval_response_hours=response[needed],
        approval_handoff_draw=handoff[needed],
        escalation_response_hours=escalation[needed],
        price_late_draw=rng.random((len(rows), n_stores)),
        price_late_days_draw=rng.exponential(1.0, size=(len(rows), n_stores)),
        price_missing_draw=rng.random((len(rows), n_stores)),
    )


def _window_quantiles(mean: Floats, days: int) -> tuple[Floats, Floats]:
    """P10 and P90 of window demand: a day's gamma-Poisson summed over `days` days."""
    n = NEGATIVE_BINOMIAL_SHAPE * days
    safe = np.maximum(mean, 1e-9)
    p = n / (n + safe)
    p10 = stats.nbinom.ppf(0.1, n, p).astype(np.float64)
    p90 = stats.nbinom.ppf(0.9, n, p).astype(np.float64)
    return np.asarray(np.where(mean > 0, p10, 0.0)), np.asarray(np.where(mean > 0, p90, 0.0))

"""Compute the figures the approval matrix judges a promotion revision on.

Margin impact compares the promotion against doing nothing, per item summed over
its locations:

    (promo price - unit cost + vendor funding per unit) x promoted units
  - (regular price - unit cost) x baseline units

Units come from the revision's forecast (promotion_forecasts). An item without
forecast rows falls back to 1 baseline and 1 promoted unit per item-location, so
its impact is the per-unit price change (plus funding) times the location count.
That understates real volumes, so currency thresholds rarely fire on it; the
lifecycle should compute facts after demand sensing has written forecasts. Vendor
funding total is funding per unit x promoted units on the same basis. An item is
below cost when its promo price is under its unit cost before vendor funding.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy.orm import Session

from promoflow.approvals import repository
from promoflow.approvals.matrix import PromotionFacts
from promoflow.catalog.models import Item
from promoflow.promotions import service as promotions_service
from promoflow.promotions.mechanics import discount_depth
from promoflow.promotions.models import Promotion, PromotionItem

CENT = Decimal("0.01")


def _units(value: float) -> Decimal:
    # str() keeps the float's shortest decimal form instead of its binary expansion.
    return Decimal(str(value))


@dataclass(frozen=True)
class Figures:
    """What a revision's scope and forecast add up to (see the module docstring)."""

    margin_impact: Decimal
    vendor_funding_total: Decimal
    max_discount_depth: float
    below_cost_items: int


def figures(
    scope: Iterable[tuple[PromotionItem, Item]],
    forecast: Mapping[int, tuple[float, float]],
    locations: int,
    funding_per_unit: Decimal,
) -> Figures:
    """Margin impact, funding, deepest discount and below-cost items of one revision.

    `forecast` maps item id to (baseline, promoted) units summed over locations; an item
    without one counts 1 unit of each per location.
    """
    fallback = (float(locations), float(locations))
    margin = Decimal(0)
    funding = Decimal(0)
    deepest = 0.0
    below_cost = 0
    for line, item in scope:
        promo = Decimal(line.promo_price)
        regular = Decimal(item.regular_price)
        cost = Decimal(item.unit_cost)
        baseline, promoted = (_units(u) for u in forecast.get(item.id, fallback))
        margin += (promo - cost + funding_per_unit) * promoted - (regular - cost) * baseline
        funding += funding_per_unit * promoted
        deepest = max(deepest, discount_depth(promo, regular))
        if promo < cost:
            below_cost += 1
    return Figures(
        margin_impact=margin.quantize(CENT, rounding=ROUND_HALF_UP),
        vendor_funding_total=funding.quantize(CENT, rounding=ROUND_HALF_UP),
        max_discount_depth=round(deepest, 4),
        below_cost_items=below_cost,
    )


def promotion_facts(session: Session, promotion: Promotion) -> PromotionFacts:
    """The matrix inputs for the promotion's current revision."""
    scope = promotions_service.scope_items(session, promotion.id)
    locations = repository.location_count(session, promotion.id)
    forecast = repository.forecast_units_by_item(session, promotion.id, promotion.revision)
    funding_per_unit = Decimal(promotion.vendor_funding_per_unit or 0)
    found = figures(scope, forecast, locations, funding_per_unit)
    return PromotionFacts(
        max_discount_depth=found.max_discount_depth,
        margin_impact=found.margin_impact,
        below_cost_items=found.below_cost_items,
        vendor_funding_total=found.vendor_funding_total,
        category=promotion.category,
        display_support=promotion.display_support,
        feature_support=promotion.feature_support,
        item_count=len(scope),
        location_count=locations,
        categories=tuple(sorted({item.category for _, item in scope})),
        forecast_used=bool(forecast),
    )

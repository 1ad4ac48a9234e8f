"""Promotion facts computed from the database, by hand-checked arithmetic."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

from sqlalchemy.orm import Session

from promoflow.approvals.facts import promotion_facts
from promoflow.catalog.models import Item, Location
from promoflow.promotions.models import ForecastLine, Promotion

PromotionFactory = Callable[..., Promotion]


def forecast(
    session: Session,
    promotion: Promotion,
    item: Item | Location,
    store: Item | Location,
    baseline: float,
    promoted: float,
    revision: int = 1,
) -> None:
    session.add(
        ForecastLine(
            promotion_id=promotion.id,
            revision=revision,
            item_id=item.id,
            location_id=store.id,
            baseline_units=baseline,
            promoted_units=promoted,
            p10=promoted * 0.8,
            p50=promoted,
            p90=promoted * 1.2,
            model_version="test",
            inputs_hash="x",
        )
    )
    session.flush()


def test_without_forecast_each_item_location_counts_one_unit(
    session: Session, make_promotion: PromotionFactory
) -> None:
    # COLA 2.00 -> 1.50 (cost 1.00), CHIPS 3.00 -> 1.20 (cost 1.50, below cost),
    # 0.10 vendor funding per unit, 2 stores => 2 units per item on both sides.
    promotion = make_promotion({"COLA": "1.50", "CHIPS": "1.20"}, vendor_funding_per_unit="0.10")
    facts = promotion_facts(session, promotion)
    # COLA:  (1.50 - 1.00 + 0.10) x 2 - (2.00 - 1.00) x 2 = -0.80
    # CHIPS: (1.20 - 1.50 + 0.10) x 2 - (3.00 - 1.50) x 2 = -3.40
    assert facts.margin_impact == Decimal("-4.20")
    assert facts.vendor_funding_total == Decimal("0.40")
    assert facts.max_discount_depth == 0.6
    assert facts.below_cost_items == 1
    assert facts.item_count == 2
    assert facts.location_count == 2
    assert facts.category == "mixed"
    assert facts.categories == ("Snacks", "Soft Drinks")
    assert facts.forecast_used is False


def test_forecast_units_are_summed_over_locations(
    session: Session,
    make_promotion: PromotionFactory,
    catalogue: dict[str, Item | Location],
) -> None:
    promotion = make_promotion({"COLA": "1.50", "CHIPS": "1.20"}, vendor_funding_per_unit="0.10")
    forecast(session, promotion, catalogue["COLA"], catalogue["S1"], baseline=10, promoted=30)
    forecast(session, promotion, catalogue["COLA"], catalogue["S2"], baseline=5, promoted=15)
    # Another revision's forecast must not count.
    forecast(session, promotion, catalogue["COLA"], catalogue["S1"], 900, 900, revision=2)
    facts = promotion_facts(session, promotion)
    # COLA:  0.60 x 45 - 1.00 x 15 = 12.00; CHIPS has no forecast: -3.40 as above.
    assert facts.margin_impact == Decimal("8.60")
    # 0.10 x 45 promoted COLA + 0.10 x 2 fallback CHIPS units
    assert facts.vendor_funding_total == Decimal("4.70")
    assert facts.forecast_used is True


def test_single_category_flags_and_no_funding(
    session: Session, make_promotion: PromotionFactory
) -> None:
    promotion = make_promotion(
        {"WIPES": "3.00"}, display_support=True, feature_support=True, stores=("S1",)
    )
    facts = promotion_facts(session, promotion)
    assert facts.category == "Baby"
    assert facts.categories == ("Baby",)
    assert (facts.display_support, facts.feature_support) == (True, True)
    assert facts.max_discount_depth == 0.25
    # (3.00 - 2.00) x 1 - (4.00 - 2.00) x 1
    assert facts.margin_impact == Decimal("-1.00")
    assert facts.vendor_funding_total == Decimal("0.00")
    assert facts.below_cost_items == 0

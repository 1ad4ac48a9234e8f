"""What-if on a draft: the champion's answers move the way the seeded retailer sells.

The seeded history promotes with deeper and shallower discounts, with and without
displays; the champion learnt from it, so a planner trying other terms must see
more units for a deeper discount and for a display, and stock risk that follows
the stock the stores hold.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session
from whatif_support import CHAMPION

from promoflow.forecasting import registry
from promoflow.inventory.models import InventoryPosition
from promoflow.kit.errors import Conflict, InvalidInput
from promoflow.promotions import service as promotions_service
from promoflow.promotions.models import PromotionItem, PromotionLocation
from promoflow.whatif.grid import VariantGrid
from promoflow.whatif.schemas import VariantOutcome, WhatIfAnswer
from promoflow.whatif.service import what_if

pytestmark = pytest.mark.timeout(420)
DEPTHS = (10.0, 20.0, 30.0, 40.0)


def _ask(session: Session, code: str, **grid: object) -> WhatIfAnswer:
    return what_if(session, code, VariantGrid(**grid), currency="EUR")  # type: ignore[arg-type]


def _pick(answer: WhatIfAnswer, depth: float, display: bool = False) -> VariantOutcome:
    return next(
        v
        for v in answer.variants
        if v.depth_percent == depth and v.display is display and not v.feature and not v.is_draft
    )


def _set_stock(session: Session, code: str, units: float) -> None:
    """Every store of the draft holds `units` of every item, nothing on the way."""
    promotion = promotions_service.find_promotion(session, code)
    items = sa.select(PromotionItem.item_id).where(PromotionItem.promotion_id == promotion.id)
    places = sa.select(PromotionLocation.location_id).where(
        PromotionLocation.promotion_id == promotion.id
    )
    session.execute(
        sa.update(InventoryPosition)
        .where(InventoryPosition.item_id.in_(items), InventoryPosition.location_id.in_(places))
        .values(on_hand=units, in_transit=0.0, allocated=0.0, on_order=0.0)
    )
    session.flush()


def test_deeper_discounts_sell_more_and_a_display_adds_to_them(
    session: Session, draft: str
) -> None:
    answer = _ask(session, draft, depths=DEPTHS, display="both", feature="off")
    assert (answer.answered_by.source, answer.answered_by.model_version) == ("champion", CHAMPION)
    # The grid plus the draft's own terms (15 % off, no display), marked as the draft.
    assert len(answer.variants) == len(DEPTHS) * 2 + 1
    (draft,) = [v for v in answer.variants if v.is_draft]
    assert (draft.depth_percent, draft.display, draft.feature) == (pytest.approx(15, abs=0.5),
                                                                   False, False)  # fmt: skip
    plain = [_pick(answer, depth).units_p50 for depth in DEPTHS]
    assert plain == sorted(plain) and len(set(plain)) == len(plain), plain
    for depth in DEPTHS:
        without, with_display = _pick(answer, depth), _pick(answer, depth, display=True)
        assert with_display.units_p50 > without.units_p50
        assert with_display.uplift_units > without.uplift_units
    # The baseline is the same promotion switched off: it does not move with the terms.
    assert len({v.baseline_units for v in answer.variants}) == 1
    for v in answer.variants:
        assert v.units_p10 <= v.units_p50 <= v.units_p90
        assert v.uplift_units == pytest.approx(v.units_p50 - v.baseline_units, abs=0.15)


def test_stock_risk_follows_the_stock_the_stores_hold(session: Session, draft: str) -> None:
    code = draft
    _set_stock(session, code, 0.0)
    empty = _ask(session, code, depths=(20.0,), display="off", feature="off")
    _set_stock(session, code, 5000.0)
    full = _ask(session, code, depths=(20.0,), display="off", feature="off")
    out, plenty = _pick(empty, 20.0), _pick(full, 20.0)
    # Empty shelves: any demand at all is a stockout, and nothing sells or is left.
    assert out.available_units == 0
    assert out.stockout_probability_mean > 0.5
    assert out.item_stores_likely_out > 0
    assert out.expected_sold_units == 0 and out.expected_left_units == 0
    assert out.expected_lost_units > 0
    assert out.leftover_share is None
    # Plenty of stock: no stockout, and what does not sell is left over.
    assert plenty.available_units == 5000.0 * full.items * full.stores
    assert plenty.stockout_probability_max < 0.01
    assert plenty.expected_left_units == pytest.approx(
        plenty.available_units - plenty.expected_sold_units, abs=1.0
    )
    assert plenty.leftover_share == pytest.approx(
        plenty.expected_left_units / plenty.available_units, abs=1e-3
    )
    assert plenty.overstock_weeks > out.overstock_weeks


def test_deeper_discounts_run_a_fixed_stock_down_faster(session: Session, draft: str) -> None:
    code = draft
    _set_stock(session, code, 12.0)
    answer = _ask(session, code, depths=DEPTHS, display="off", feature="off")
    rows = [_pick(answer, depth) for depth in DEPTHS]
    risk = [v.stockout_probability_mean for v in rows]
    left = [v.expected_left_units for v in rows]
    assert risk == sorted(risk) and risk[-1] > risk[0]
    assert left == sorted(left, reverse=True) and left[-1] < left[0]
    for v in rows:  # sales never exceed the stock, and stock is sold or left
        assert v.expected_sold_units <= v.available_units
        assert v.expected_sold_units + v.expected_left_units == pytest.approx(
            v.available_units, abs=1.0
        )


def test_margin_counts_price_cost_and_vendor_funding(session: Session, draft: str) -> None:
    code = draft
    unfunded = _pick(_ask(session, code, depths=(20.0,), display="off", feature="off"), 20.0)
    promotion = promotions_service.find_promotion(session, code)
    promotion.vendor_funding_per_unit = Decimal("0.50")
    session.flush()
    funded = _pick(_ask(session, code, depths=(20.0,), display="off", feature="off"), 20.0)
    assert funded.units_p50 == unfunded.units_p50  # funding pays the retailer, not the shopper
    gained = funded.promoted_margin.amount - unfunded.promoted_margin.amount
    assert float(gained) == pytest.approx(0.5 * funded.expected_sold_units, abs=0.05)
    for v in (unfunded, funded):
        assert v.incremental_margin.currency == "EUR"
        assert v.incremental_margin.amount == v.promoted_margin.amount - v.baseline_margin.amount


def test_without_a_usable_champion_the_lifecycle_fallback_answers_and_says_so(
    session: Session, draft: str
) -> None:
    code = draft
    registry.retire(session, CHAMPION, actor="ada.admin", role="operations_admin", reason="test")
    answer = _ask(session, code, depths=(10.0, 30.0), display="off", feature="off")
    assert answer.answered_by.source == "history_baseline"
    assert answer.answered_by.model_version != CHAMPION
    assert "no champion" in answer.answered_by.note
    assert _pick(answer, 30.0).units_p50 > 0


@pytest.mark.parametrize(
    ("grid", "field", "value"),
    [
        ({"depths": (10.0, 95.0)}, "depth", 95.0),
        ({"depths": (-5.0,)}, "depth", -5.0),
        ({"mechanics": ("percent_off", "bogo")}, "mechanic", "bogo"),
        ({"display": "maybe"}, "display", "maybe"),
        ({"feature": "yes"}, "feature", "yes"),
    ],
)
def test_bad_terms_are_refused_naming_the_field_and_value(
    session: Session, single_item_draft: str, grid: dict[str, object], field: str,
    value: object,
) -> None:  # fmt: skip
    with pytest.raises(InvalidInput) as refused:
        _ask(session, single_item_draft, **grid)
    assert (refused.value.field, refused.value.value) == (field, value)
    assert f"{field}={value!r}" in str(refused.value)


def test_a_bundle_needs_two_items(session: Session, single_item_draft: str) -> None:
    with pytest.raises(InvalidInput, match="mechanic='bundle': a bundle needs at least 2 items"):
        _ask(session, single_item_draft, mechanics=("bundle",))


def test_only_a_draft_has_a_what_if(session: Session, single_item_draft: str) -> None:
    code = single_item_draft
    promotion = promotions_service.find_promotion(session, code)
    promotion.status = "submitted"
    session.flush()
    with pytest.raises(Conflict, match="status='submitted'"):
        _ask(session, code, depths=(10.0,))

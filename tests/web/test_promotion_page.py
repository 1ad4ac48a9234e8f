"""A promotion's page: what it shows and who may act on its recommendations."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal

from api.conftest import Catalog
from web.conftest import Console


def _draft(catalog: Catalog, code: str) -> str:
    from promoflow.lifecycle import commands
    from promoflow.promotions.schemas import PromotionCreate

    start = date.today() + timedelta(days=21)
    promotion = commands.create_promotion(
        PromotionCreate(
            code=code,
            name=f"Console {code}",
            mechanic="percent_off",
            discount_percent=Decimal(15),
            start_date=start,
            end_date=start + timedelta(days=6),
            channels=["pos", "ecommerce"],
            items=catalog.skus[:2],
            locations=catalog.stores,
        ),
        "mia.merch",
    )
    return promotion.code


def test_the_page_shows_the_promotions_terms_state_and_scope(
    console_for: Callable[[str], Console], catalog: Catalog
) -> None:
    code = _draft(catalog, "WEB-DETAIL-1")
    page = console_for("auditor").get(f"/promotions/{code}")
    assert page.status_code == 200
    text = page.text
    assert f"Console {code}" in text
    assert "draft" in text
    assert "percent off" in text and "15 %" in text
    assert "2 items × 2 stores" in text
    assert "pos, ecommerce" in text


def test_an_unknown_promotion_answers_404_in_the_page_not_json(
    console_for: Callable[[str], Console],
) -> None:
    page = console_for("auditor").get("/promotions/NO-SUCH-PROMO")
    assert page.status_code == 404
    assert "<h1>Not found" in page.text


def test_a_role_that_may_not_decide_recommendations_is_refused_with_403(
    console_for: Callable[[str], Console], catalog: Catalog
) -> None:
    code = _draft(catalog, "WEB-DETAIL-2")
    console = console_for("merchandiser")
    console.get(f"/promotions/{code}")
    forged = console.post("/recommendations/1/decision", data={"decision": "accept", "ref": code})
    assert forged.status_code == 403
    assert "may not decide allocation and replenishment recommendations" in forged.text

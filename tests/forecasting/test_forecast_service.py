"""forecast_promotion: history from the database, stored lines, hash and event.

SKU-A and SKU-B sell a steady 10 a week at ST-1 and ST-2; their category peer
SKU-C (not promoted) sold 20 a week and 40 in each of five 25 %-off weeks at both
stores: ten promoted observations, so the snacks lift learnt is 2.0.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from promoflow.catalog.models import Item, Location
from promoflow.events.models import Event
from promoflow.forecasting.baseline import HistoryBaselineForecaster
from promoflow.forecasting.service import build_scenario, forecast_promotion
from promoflow.inventory.models import WeeklySales
from promoflow.promotions.models import (
    ForecastLine,
    Promotion,
    PromotionItem,
    PromotionLocation,
)

START = date(2026, 11, 16)
PROMO_WEEKS = {2, 5, 8, 11, 14}


@pytest.fixture
def promotion(session: Session) -> Promotion:
    items = {
        sku: Item(
            sku=sku,
            name=sku,
            department="grocery",
            category="snacks",
            subcategory="crisps",
            unit_cost=Decimal("2.00"),
            regular_price=Decimal("4.00"),
            attributes={},
        )
        for sku in ("SKU-A", "SKU-B", "SKU-C")
    }
    stores = {
        code: Location(code=code, name=code, kind="store", region="north", attributes={})
        for code in ("ST-1", "ST-2", "ST-3")
    }
    session.add_all([*items.values(), *stores.values()])
    session.flush()
    for week in range(16):
        day = START - timedelta(weeks=16 - week)
        for store in stores.values():
            for sku, item in items.items():
                promoted = sku == "SKU-C" and week in PROMO_WEEKS
                units = {"SKU-A": 10.0, "SKU-B": 10.0, "SKU-C": 40.0 if promoted else 20.0}[sku]
                if store.code == "ST-3":
                    units = 500.0  # outside the promotion's scope: must not count
                session.add(
                    WeeklySales(
                        item_id=item.id,
                        location_id=store.id,
                        week=day,
                        units=units,
                        price=3.0 if promoted else 4.0,
                        on_promo=promoted,
                        mechanic="percent_off" if promoted else None,
                    )
                )
    promotion = Promotion(
        code="PRM-F1",
        name="Crisps deal",
        requested_by="mia",
        mechanic="percent_off",
        discount_percent=Decimal(25),
        start_date=START,
        end_date=START + timedelta(days=13),
        channels=["pos"],
        timing={},
        status="validated",
    )
    session.add(promotion)
    session.flush()
    for sku in ("SKU-A", "SKU-B"):
        session.add(
            PromotionItem(
                promotion_id=promotion.id, item_id=items[sku].id, promo_price=Decimal("3.00")
            )
        )
    for code in ("ST-1", "ST-2"):
        session.add(PromotionLocation(promotion_id=promotion.id, location_id=stores[code].id))
    session.flush()
    return promotion


def _lines(session: Session, promotion: Promotion) -> list[ForecastLine]:
    return list(
        session.scalars(
            sa.select(ForecastLine)
            .where(ForecastLine.promotion_id == promotion.id)
            .order_by(ForecastLine.revision, ForecastLine.item_id, ForecastLine.location_id)
        )
    )


def test_scenario_reads_depth_from_promo_versus_regular_price(
    session: Session, promotion: Promotion
) -> None:
    scenario = build_scenario(session, promotion)
    assert scenario.discount_depth == pytest.approx(0.25)
    assert len(scenario.item_ids) == 2
    assert len(scenario.location_ids) == 2
    assert (scenario.start, scenario.mechanic) == (START, "percent_off")


def test_forecast_stores_a_line_per_item_location_with_model_and_hash(
    session: Session, promotion: Promotion
) -> None:
    summary = forecast_promotion(session, promotion, HistoryBaselineForecaster())
    lines = _lines(session, promotion)
    assert len(lines) == summary.lines == 4
    for line in lines:
        assert line.revision == 1
        assert line.baseline_units == pytest.approx(20.0)  # 10 a week, two weeks
        assert line.promoted_units == pytest.approx(40.0)  # the peer's lift of 2.0
        assert line.p10 <= line.p50 <= line.p90
        assert line.model_version == "history-baseline-lift-1"
        assert len(line.inputs_hash) == 64
    assert (summary.baseline_units, summary.promoted_units, summary.uplift_pct) == (
        80.0,
        160.0,
        100.0,
    )
    assert summary.p90_units == pytest.approx(sum(line.p90 for line in lines), abs=0.1)
    [event] = session.scalars(
        sa.select(Event).where(Event.type == "io.promoflow.forecast.created")
    ).all()
    assert event.promotion_id == promotion.id
    assert event.data["inputs_hash"] == summary.inputs_hash
    assert event.data["promoted_units"] == 160.0


def test_forecasting_again_replaces_the_revision_lines_with_the_same_hash(
    session: Session, promotion: Promotion
) -> None:
    first = forecast_promotion(session, promotion, HistoryBaselineForecaster())
    again = forecast_promotion(session, promotion, HistoryBaselineForecaster())
    assert len(_lines(session, promotion)) == 4
    assert again.inputs_hash == first.inputs_hash


def test_changed_history_changes_the_inputs_hash(session: Session, promotion: Promotion) -> None:
    first = forecast_promotion(session, promotion, HistoryBaselineForecaster())
    newest = session.scalars(sa.select(WeeklySales).order_by(WeeklySales.week.desc())).first()
    assert newest is not None
    newest.units += 1
    session.flush()
    assert forecast_promotion(session, promotion, HistoryBaselineForecaster()).inputs_hash != (
        first.inputs_hash
    )


def test_a_new_revision_keeps_the_previous_revision_lines(
    session: Session, promotion: Promotion
) -> None:
    forecast_promotion(session, promotion, HistoryBaselineForecaster())
    promotion.revision = 2
    session.flush()
    forecast_promotion(session, promotion, HistoryBaselineForecaster())
    assert [line.revision for line in _lines(session, promotion)] == [1] * 4 + [2] * 4

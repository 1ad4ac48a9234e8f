"""Post-event accuracy against hand-built forecast lines: every figure checkable by hand."""

from __future__ import annotations

from datetime import UTC, datetime

import polars as pl
import pytest
import sqlalchemy as sa
from governance_support import Retailer
from sqlalchemy.orm import Session

from promoflow.events.models import Event
from promoflow.forecasting.models import PromotionForecastAccuracy
from promoflow.forecasting.post_event_accuracy import (
    accuracy_by_model,
    get_post_event_accuracy,
    record_post_event_accuracy,
)
from promoflow.kit.errors import Conflict, InvalidInput, NotFound
from promoflow.promotions.models import ForecastLine

NOW = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)


def store_forecast(
    session: Session,
    retailer: Retailer,
    revision: int,
    lines: list[tuple[int, int, float, float, float, float]],
    model_version: str = "promoflow-lgbm-1",
) -> None:
    """Lines as (item index, store index, baseline, promoted, p10, p90)."""
    session.add_all(
        ForecastLine(
            promotion_id=retailer.promotion.id, revision=revision,
            item_id=retailer.items[item], location_id=retailer.stores[store],
            baseline_units=baseline, promoted_units=promoted, p10=p10, p50=promoted, p90=p90,
            model_version=model_version, inputs_hash=f"hash-rev-{revision}",
        )
        for item, store, baseline, promoted, p10, p90 in lines
    )  # fmt: skip
    session.flush()


def actuals(retailer: Retailer, rows: list[tuple[int, int, float]]) -> pl.DataFrame:
    """Actuals as (item index, store index, units)."""
    return pl.DataFrame(
        {
            "item_id": [retailer.items[i] for i, _, _ in rows],
            "location_id": [retailer.stores[s] for _, s, _ in rows],
            "actual_units": [units for _, _, units in rows],
        }
    )


# Three forecast lines:             baseline  promoted  p10  p90   actual
#   item 0 @ store 0                   10        20      15   25     24   inside
#   item 0 @ store 1                    5        10       6   14      4   below p10
#   item 1 @ store 0                    8        12       9   16      -   none sold
# plus an actual for item 1 @ store 1, which was never forecast.
FORECAST = [
    (0, 0, 10.0, 20.0, 15.0, 25.0),
    (0, 1, 5.0, 10.0, 6.0, 14.0),
    (1, 0, 8.0, 12.0, 9.0, 16.0),
]
SOLD = [(0, 0, 24.0), (0, 1, 4.0), (1, 1, 3.0)]


def test_accuracy_of_one_revision(session: Session, retailer: Retailer) -> None:
    store_forecast(session, retailer, 2, FORECAST)
    row = record_post_event_accuracy(
        session, retailer.promotion.id, 2, actuals(retailer, SOLD), now=NOW
    )
    assert (row.model_version, row.inputs_hash, row.recorded_at) == (
        "promoflow-lgbm-1",
        "hash-rev-2",
        NOW,
    )
    assert (row.lines, row.lines_without_actuals) == (3, 1)
    assert (row.forecast_units, row.baseline_units, row.actual_units) == (42.0, 23.0, 28.0)
    assert row.abs_error_units == 22.0  # |24-20| + |4-10| + |0-12|
    assert row.wape == pytest.approx(22 / 28)
    assert row.bias == pytest.approx((42 - 28) / 28)
    assert row.forecast_uplift_pct == pytest.approx((42 / 23 - 1) * 100)
    assert row.actual_uplift_pct == pytest.approx((28 / 23 - 1) * 100)
    assert (row.lines_within_p10_p90, row.coverage_p10_p90) == (1, pytest.approx(1 / 3))
    assert row.details == {"actual_rows_outside_forecast": 1}
    [event] = session.scalars(
        sa.select(Event).where(Event.type == "io.promoflow.forecast.accuracy_recorded")
    ).all()
    assert event.promotion_id == retailer.promotion.id
    assert event.data["wape"] == pytest.approx(22 / 28)


def test_recording_again_replaces_the_row(session: Session, retailer: Retailer) -> None:
    store_forecast(session, retailer, 2, FORECAST)
    record_post_event_accuracy(session, retailer.promotion.id, 2, actuals(retailer, SOLD))
    late_sales = [(0, 0, 20.0), (0, 1, 10.0), (1, 0, 12.0)]  # the forecast was exact
    row = record_post_event_accuracy(
        session, retailer.promotion.id, 2, actuals(retailer, late_sales)
    )
    rows = session.scalars(sa.select(PromotionForecastAccuracy)).all()
    assert rows == [row]
    assert (row.actual_units, row.wape, row.bias, row.coverage_p10_p90) == (42.0, 0.0, 0.0, 1.0)
    assert (row.lines_without_actuals, row.details) == (0, {"actual_rows_outside_forecast": 0})
    assert get_post_event_accuracy(session, retailer.promotion.id, 2) is row


def test_nothing_sold_leaves_the_ratios_unknown(session: Session, retailer: Retailer) -> None:
    store_forecast(session, retailer, 2, FORECAST)
    row = record_post_event_accuracy(session, retailer.promotion.id, 2, actuals(retailer, []))
    assert (row.actual_units, row.abs_error_units, row.wape, row.bias) == (0.0, 42.0, None, None)
    assert row.actual_uplift_pct == pytest.approx(-100.0)


def test_accuracy_per_model_pools_promotions_exactly(session: Session, retailer: Retailer) -> None:
    store_forecast(session, retailer, 2, FORECAST)
    store_forecast(session, retailer, 1, [(1, 1, 4.0, 6.0, 5.0, 8.0)], model_version="baseline-1")
    record_post_event_accuracy(session, retailer.promotion.id, 2, actuals(retailer, SOLD))
    record_post_event_accuracy(session, retailer.promotion.id, 1, actuals(retailer, [(1, 1, 9)]))
    summary = {row.model_version: row for row in accuracy_by_model(session)}
    assert set(summary) == {"promoflow-lgbm-1", "baseline-1"}
    lgbm, baseline = summary["promoflow-lgbm-1"], summary["baseline-1"]
    assert (lgbm.promotions, lgbm.lines, lgbm.forecast_units, lgbm.actual_units) == (1, 3, 42, 28)
    assert lgbm.wape == pytest.approx(22 / 28)
    assert (baseline.wape, baseline.bias, baseline.coverage_p10_p90) == (
        pytest.approx(3 / 9),
        pytest.approx(-3 / 9),
        0.0,
    )
    assert [row.model_version for row in accuracy_by_model(session, "baseline-1")] == ["baseline-1"]


def test_a_revision_without_a_forecast_is_not_found(session: Session, retailer: Retailer) -> None:
    with pytest.raises(NotFound, match="revision 2 has no stored forecast"):
        record_post_event_accuracy(session, retailer.promotion.id, 2, actuals(retailer, SOLD))


def test_lines_from_two_models_are_refused(session: Session, retailer: Retailer) -> None:
    store_forecast(session, retailer, 2, FORECAST[:1], model_version="a")
    store_forecast(session, retailer, 2, FORECAST[1:], model_version="b")
    with pytest.raises(Conflict, match=r"2 models \(a, b\)"):
        record_post_event_accuracy(session, retailer.promotion.id, 2, actuals(retailer, SOLD))


@pytest.mark.parametrize(
    ("frame", "says"),
    [
        (pl.DataFrame({"item_id": [1], "units": [3.0]}), "missing location_id, actual_units"),
        (
            pl.DataFrame({"item_id": [1], "location_id": [2], "actual_units": [-1.0]}),
            "negative",
        ),
        (
            pl.DataFrame({"item_id": [1], "location_id": [2], "actual_units": [None]}),
            "missing, negative",
        ),
        (
            pl.DataFrame({"item_id": [1, 1], "location_id": [2, 2], "actual_units": [1.0, 2.0]}),
            "more than once",
        ),
    ],
)
def test_bad_actuals_are_refused_before_anything_is_written(
    session: Session, retailer: Retailer, frame: pl.DataFrame, says: str
) -> None:
    store_forecast(session, retailer, 2, FORECAST)
    with pytest.raises(InvalidInput, match=says):
        record_post_event_accuracy(session, retailer.promotion.id, 2, frame)
    assert get_post_event_accuracy(session, retailer.promotion.id, 2) is None

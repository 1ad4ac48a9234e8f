"""Supplier risk from PO history: hand-checked shrinkage, ordering, bands, bad input."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, timedelta
from typing import Any

import polars as pl
import pytest

from promoflow.kit.errors import InvalidInput
from promoflow.planning.supplier_risk import SupplierRiskWeights, score_suppliers

DAY0 = date(2026, 1, 5)
AS_OF = date(2026, 4, 1)
PRIORS = {"prior_on_time_rate": 0.9, "prior_fill_rate": 0.95, "prior_lead_time_cv": 0.2}


def po(
    supplier_id: int, lead: int | None, due: int = 10, qty: float = 100.0, got: float = 100.0
) -> dict[str, Any]:
    """A PO ordered on DAY0, due `due` days later, received after `lead` days (None: open)."""
    return {
        "supplier_id": supplier_id,
        "ordered_at": DAY0,
        "due_date": DAY0 + timedelta(days=due),
        "received_on": None if lead is None else DAY0 + timedelta(days=lead),
        "quantity": qty,
        "received_quantity": got if lead is not None else 0.0,
    }


def history(*rows: dict[str, Any]) -> pl.DataFrame:
    return pl.DataFrame(list(rows), schema_overrides={"received_on": pl.Date})


def by_supplier(frame: pl.DataFrame) -> dict[int, dict[str, Any]]:
    return {row["supplier_id"]: row for row in frame.iter_rows(named=True)}


def test_shrinkage_matches_the_documented_formula() -> None:
    frame = history(po(1, 10), po(1, 10), po(1, 12, got=80.0), po(1, 8))
    row = score_suppliers(frame, as_of=AS_OF, **PRIORS).row(0, named=True)
    assert row["purchase_orders"] == 4
    assert row["observed_on_time_rate"] == pytest.approx(0.75)
    assert row["on_time_rate"] == pytest.approx((3 + 10 * 0.9) / (4 + 10))
    assert row["observed_fill_rate"] == pytest.approx(380 / 400)
    assert row["fill_rate"] == pytest.approx((4 * 0.95 + 10 * 0.95) / 14)
    cv = math.sqrt(8 / 3) / 10  # lead times 10, 10, 12, 8
    assert row["observed_lead_time_cv"] == pytest.approx(cv)
    assert row["lead_time_cv"] == pytest.approx((3 * cv + 10 * 0.2) / 13)
    late, short, variable = 1 - row["on_time_rate"], 1 - row["fill_rate"], row["lead_time_cv"]
    assert row["risk_score"] == pytest.approx(0.5 * late + 0.3 * short + 0.2 * variable)


def test_scores_order_suppliers_and_bands_follow() -> None:
    reliable = [po(1, 9 + k % 2) for k in range(30)]
    middling = [po(2, 9 if k % 4 else 14, got=95.0) for k in range(30)]
    risky = [po(3, [5, 12, 20, 30][k % 4], got=70.0) for k in range(30)]
    scored = by_supplier(score_suppliers(history(*reliable, *middling, *risky), as_of=AS_OF))
    assert scored[1]["risk_score"] < scored[2]["risk_score"] < scored[3]["risk_score"]
    assert [scored[k]["risk_band"] for k in (1, 2, 3)] == ["low", "medium", "high"]


def test_one_late_po_moves_a_new_supplier_less_than_a_long_record() -> None:
    frame = history(po(1, 15), *[po(2, 15 if k % 2 else 9) for k in range(40)])
    shrunk = by_supplier(score_suppliers(frame, as_of=AS_OF, **PRIORS))
    assert shrunk[1]["observed_on_time_rate"] == 0.0
    assert shrunk[1]["on_time_rate"] == pytest.approx(9 / 11)
    assert shrunk[1]["risk_score"] < shrunk[2]["risk_score"]
    raw = by_supplier(score_suppliers(frame, as_of=AS_OF, prior_strength=0, **PRIORS))
    assert raw[1]["on_time_rate"] == 0.0
    assert raw[1]["risk_score"] > raw[2]["risk_score"]


def test_overdue_open_po_counts_late_and_one_not_yet_due_is_ignored() -> None:
    frame = history(po(1, 5), po(1, None, due=30), po(1, None, due=200))
    row = score_suppliers(frame, as_of=AS_OF, **PRIORS).row(0, named=True)
    assert (row["purchase_orders"], row["received_orders"]) == (2, 1)
    assert row["observed_on_time_rate"] == 0.5
    assert row["observed_fill_rate"] == 1.0


def test_over_delivery_counts_as_full_not_better() -> None:
    row = score_suppliers(history(po(1, 5, got=150.0)), as_of=AS_OF).row(0, named=True)
    assert row["observed_fill_rate"] == 1.0


def test_priors_default_to_the_pooled_history() -> None:
    frame = history(po(1, 5), po(1, 5), po(2, 20), po(2, 20))
    scored = by_supplier(score_suppliers(frame, as_of=AS_OF, supplier_ids=[1, 2, 3]))
    newcomer = scored[3]
    assert newcomer["purchase_orders"] == 0
    assert newcomer["observed_on_time_rate"] is None
    assert newcomer["on_time_rate"] == pytest.approx(0.5)  # 2 of 4 POs on time, pooled
    assert newcomer["fill_rate"] == pytest.approx(1.0)


def test_timestamps_are_read_as_order_dates() -> None:
    frame = history(po(1, 10)).with_columns(
        pl.lit(datetime(2026, 1, 5, 23, tzinfo=UTC)).alias("ordered_at")
    )
    row = score_suppliers(frame, as_of=AS_OF).row(0, named=True)
    assert row["mean_lead_time_days"] == 10.0


def test_zero_quantity_is_refused() -> None:
    with pytest.raises(InvalidInput) as raised:
        score_suppliers(history(po(1, 5, qty=0.0)), as_of=AS_OF)
    assert (raised.value.field, raised.value.value) == ("quantity", 0.0)


def test_receipt_before_the_order_is_refused() -> None:
    with pytest.raises(InvalidInput) as raised:
        score_suppliers(history(po(1, -2)), as_of=AS_OF)
    assert (raised.value.field, raised.value.value) == ("received_on", DAY0 - timedelta(days=2))


def test_dates_as_text_are_refused() -> None:
    frame = history(po(1, 5)).with_columns(pl.col("due_date").cast(pl.String))
    with pytest.raises(InvalidInput) as raised:
        score_suppliers(frame, as_of=AS_OF)
    assert (raised.value.field, raised.value.value) == ("due_date", "String")


def test_bad_parameters_are_refused() -> None:
    with pytest.raises(InvalidInput) as raised:
        score_suppliers(history(po(1, 5)), as_of=AS_OF, weights=SupplierRiskWeights(late=-1))
    assert (raised.value.field, raised.value.value) == ("weights.late", -1)
    with pytest.raises(InvalidInput) as raised:
        score_suppliers(history(po(1, 5)), as_of=AS_OF, bands=(0.3, 0.1))
    assert raised.value.field == "bands"


def test_a_prior_rate_outside_zero_to_one_is_refused() -> None:
    with pytest.raises(InvalidInput) as raised:
        score_suppliers(history(po(1, 5)), as_of=AS_OF, prior_fill_rate=1.2)
    assert (raised.value.field, raised.value.value) == ("prior_fill_rate", 1.2)

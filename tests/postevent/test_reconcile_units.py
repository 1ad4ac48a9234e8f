"""The units leg of the reconciliation, on a ledger written by hand."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import polars as pl

from promoflow.connectors.sandbox.ledger import GoodsIssue, LedgerPosting, PromotionLedger
from promoflow.postevent.reconciliation import reconcile

WEEK = date(2026, 3, 2)
POS = pl.DataFrame(
    {
        "sku": ["SKU-1", "SKU-1", "SKU-2"],
        "location_code": ["ST-1", "ST-2", "ST-1"],
        "units": [10.0, 6.0, 4.0],
        "price": [1.5, 1.5, 3.0],
        "unit_cost": [1.0, 1.0, 2.0],
    }
)
FUNDING = {"SKU-1": Decimal("0.10"), "SKU-2": Decimal("0.00")}
# Revenue 36.00 - cost 24.00 + funding earned 1.60.
POSTING = LedgerPosting("FI-000009", Decimal("13.60"), Decimal("1.60"))


def _ledger(issued: list[tuple[str, str, float]]) -> PromotionLedger:
    issues = [GoodsIssue(sku, code, WEEK, units) for sku, code, units in issued]
    return PromotionLedger("T-1", issues, FUNDING, POSTING)


def test_matching_sources_reconcile() -> None:
    issued = [("SKU-1", "ST-1", 10.0), ("SKU-1", "ST-2", 6.0), ("SKU-2", "ST-1", 4.0)]
    mismatches, totals = reconcile("T-1", POS, _ledger(issued))
    assert mismatches == []
    assert totals["expected_margin"] == "13.60"


def test_a_store_the_erp_issued_less_from_is_named() -> None:
    issued = [("SKU-1", "ST-1", 10.0), ("SKU-1", "ST-2", 2.0), ("SKU-2", "ST-1", 4.0)]
    mismatches, totals = reconcile("T-1", POS, _ledger(issued))
    assert [m.check for m in mismatches] == ["units", "margin"]
    assert "SKU-1@ST-2 POS 6 vs ERP 2" in mismatches[0].title
    assert (totals["pos_units"], totals["erp_units"]) == ("20", "16")
    # Fewer units issued means less cost booked: the posted margin no longer follows.
    assert totals["expected_margin"] == "17.60"

"""Three-way reconciliation of a promotion: POS sales, ERP stock movements, finance posting.

Units: every SKU x store's POS units against the ERP's goods issues. Money: the
posted margin against POS revenue less the cost of the units the ERP issued plus
the vendor funding earned, and the funding claimed against the funding earned.
Each disagreement beyond a cent (or a unit) is one mismatch with a stable key, so
a rerun finds the case it opened before instead of opening a twin.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import polars as pl

from promoflow.connectors.sandbox.ledger import PromotionLedger

UNIT_TOLERANCE = 0.5
MONEY_TOLERANCE = Decimal("0.01")


@dataclass(frozen=True)
class Mismatch:
    """One disagreement between the three sources."""

    check: str  # units, posting_missing, margin, vendor_funding
    title: str
    pos: str
    erp: str
    finance: str

    def key(self, code: str) -> str:
        """Identifies the mismatch across reruns."""
        return f"{code}:{self.check}"


def _money(value: float | Decimal) -> Decimal:
    return Decimal(str(value)).quantize(MONEY_TOLERANCE)


def reconcile(
    code: str, pos: pl.DataFrame, ledger: PromotionLedger
) -> tuple[list[Mismatch], dict[str, str]]:
    """Mismatches and the totals compared; `pos` has sku, location_code, units, price,
    unit_cost for the promotion's promoted cells."""
    by_pair = pos.group_by("sku", "location_code").agg(pl.col("units").sum().alias("pos"))
    issued = (
        pl.DataFrame(
            [(g.sku, g.location_code, g.units) for g in ledger.goods_issues],
            schema={"sku": pl.Utf8, "location_code": pl.Utf8, "erp": pl.Float64},
            orient="row",
        )
        .group_by("sku", "location_code")
        .agg(pl.col("erp").sum())
    )
    joined = by_pair.join(issued, on=["sku", "location_code"], how="full", coalesce=True).fill_null(
        0.0
    )
    apart = joined.filter((pl.col("pos") - pl.col("erp")).abs() > UNIT_TOLERANCE)
    funding = {sku: float(v) for sku, v in ledger.funding_per_unit.items()}
    earned = _money(
        pos.select(
            pl.col("units")
            * pl.col("sku").replace_strict(funding, default=0.0, return_dtype=pl.Float64)
        )
        .sum()
        .item()
        or 0.0
    )
    cost_per_unit = dict(zip(pos["sku"], pos["unit_cost"], strict=True))
    issued_cost = sum(g.units * cost_per_unit.get(g.sku, 0.0) for g in ledger.goods_issues)
    revenue = float(pos.select((pl.col("units") * pl.col("price")).sum()).item() or 0.0)
    expected_margin = _money(revenue - issued_cost) + earned
    totals = {
        "pos_units": f"{float(by_pair['pos'].sum()):.0f}",
        "erp_units": f"{float(issued['erp'].sum()):.0f}",
        "pos_revenue": str(_money(revenue)),
        "expected_margin": str(expected_margin),
        "vendor_funding_earned": str(earned),
        "posted_margin": "" if ledger.posting is None else str(ledger.posting.margin),
        "vendor_funding_claimed": ""
        if ledger.posting is None
        else str(ledger.posting.vendor_funding),
        "document_number": "" if ledger.posting is None else ledger.posting.document_number,
    }
    return _mismatches(apart, ledger, expected_margin, earned, totals), totals


def _mismatches(
    apart: pl.DataFrame,
    ledger: PromotionLedger,
    expected_margin: Decimal,
    earned: Decimal,
    totals: dict[str, str],
) -> list[Mismatch]:
    found: list[Mismatch] = []
    if apart.height:
        pairs = ", ".join(
            f"{sku}@{loc} POS {p:.0f} vs ERP {e:.0f}"
            for sku, loc, p, e in apart.sort("sku", "location_code").head(5).iter_rows()
        )
        found.append(
            Mismatch(
                "units",
                f"POS and ERP stock movements differ for {apart.height} SKU x store(s): {pairs}",
                totals["pos_units"],
                totals["erp_units"],
                "",
            )
        )
    posting = ledger.posting
    if posting is None:
        found.append(
            Mismatch(
                "posting_missing",
                "no finance posting for the promotion's result",
                str(expected_margin),
                "",
                "",
            )
        )
        return found
    if abs(posting.margin - expected_margin) > MONEY_TOLERANCE:
        found.append(
            Mismatch(
                "margin",
                f"posted margin {posting.margin} differs from {expected_margin} "
                "(POS revenue less ERP cost plus funding earned)",
                str(expected_margin),
                totals["erp_units"],
                str(posting.margin),
            )
        )
    if abs(posting.vendor_funding - earned) > MONEY_TOLERANCE:
        found.append(
            Mismatch(
                "vendor_funding",
                f"vendor funding claimed {posting.vendor_funding} differs from earned {earned}",
                str(earned),
                "",
                str(posting.vendor_funding),
            )
        )
    return found

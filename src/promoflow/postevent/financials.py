"""A promotion's financial result against its counterfactual baseline (docs/post-event.md)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import polars as pl

from promoflow.postevent import counterfactual as cf

# What in-store support costs when the retailer does not book it per promotion:
# assumptions, printed with the report, never presented as measured.
DISPLAY_COST_PER_STORE_WEEK = 15.0
FEATURE_COST_PER_WEEK = 250.0


@dataclass(frozen=True)
class PromotionScope:
    """Where and when a promotion ran, and how it was supported."""

    code: str
    category: str
    region: str | None  # None: every store and the web shop
    start: date  # first and last Monday of the promoted weeks
    end: date
    display: bool
    feature: bool
    # A live promotion names its items and locations; a historical one is read from
    # the POS (every item on promotion in its region and weeks).
    skus: tuple[str, ...] = ()
    location_codes: tuple[str, ...] = ()


def scoped_cells(flagged: pl.DataFrame, scope: PromotionScope) -> pl.DataFrame:
    """Tags each panel cell with its role: promoted, sibling, dip or none."""
    in_region = pl.lit(True) if scope.region is None else pl.col("region") == scope.region
    if scope.location_codes:
        in_region = pl.col("location_code").is_in(list(scope.location_codes))
    in_window = pl.col("week").is_between(scope.start, scope.end)
    dip_week = pl.col("week") == scope.end + timedelta(weeks=1)
    own_items = pl.col("sku").is_in(list(scope.skus)) if scope.skus else pl.lit(True)
    promoted_pairs = (
        flagged.filter(in_window & pl.col("on_promo") & in_region & own_items)
        .select(cf.PAIR)
        .unique()
    )
    tagged = flagged.join(
        promoted_pairs.with_columns(pl.lit(True).alias("in_scope")), on=cf.PAIR, how="left"
    ).with_columns(pl.col("in_scope").fill_null(False))
    role = (
        pl.when(in_window & pl.col("in_scope") & pl.col("on_promo"))
        .then(pl.lit("promoted"))
        .when(in_window & in_region & ~pl.col("in_scope"))
        .then(pl.lit("sibling"))
        # A week after that is itself on promotion measures that promotion, not a dip.
        .when(dip_week & pl.col("in_scope") & ~pl.col("on_promo"))
        .then(pl.lit("dip"))
        .otherwise(pl.lit("none"))
    )
    return tagged.with_columns(role.alias("role")).filter(pl.col("role") != "none")


def measure(
    panel: pl.DataFrame, scope: PromotionScope, week_shares: dict[date, float] | None = None
) -> pl.DataFrame:
    """Promoted, sibling and dip cells with their counterfactual baseline units;
    `week_shares` names the weeks whose cells cover only part of the week."""
    flagged = cf.flag_clean(panel)
    season = cf.covering_days(cf.season_index(flagged), week_shares or {})
    levels = cf.pair_levels(flagged, season, scope.start, scope.end)
    return cf.baseline(scoped_cells(flagged, scope), levels, season)


def _total(frame: pl.DataFrame, expression: pl.Expr) -> float:
    return float(frame.select(expression.sum()).item() or 0.0)


def figures(
    cells: pl.DataFrame, scope: PromotionScope, funding_per_unit: dict[str, float]
) -> dict[str, Any]:
    """Units, money, halo effects, costs and ROI of one promotion (plain numbers)."""
    promoted = cells.filter(pl.col("role") == "promoted").with_columns(
        pl.col("sku")
        .replace_strict(funding_per_unit, default=0.0, return_dtype=pl.Float64)
        .alias("funding_per_unit")
    )
    siblings = cells.filter(pl.col("role") == "sibling")
    dip = cells.filter(pl.col("role") == "dip")
    units, base = pl.col("units"), pl.col("baseline_units")
    regular_margin = pl.col("regular_price") - pl.col("unit_cost")
    sold = _total(promoted, units)
    revenue = _total(promoted, units * pl.col("price"))
    cost_of_goods = _total(promoted, units * pl.col("unit_cost"))
    funding = _total(promoted, units * pl.col("funding_per_unit"))
    baseline_units = _total(promoted, base)
    baseline_revenue = _total(promoted, base * pl.col("regular_price"))
    baseline_margin = _total(promoted, base * regular_margin)
    margin = revenue - cost_of_goods + funding
    sibling_units = _total(siblings, units - base)
    sibling_margin = _total(siblings, (units - base) * regular_margin)
    dip_units = _total(dip, units - base)
    dip_margin = _total(dip, (units - base) * regular_margin)
    markdown = _total(promoted, units * (pl.col("regular_price") - pl.col("price")))
    store_weeks = promoted.select(pl.struct("location_id", "week").n_unique()).item()
    weeks = promoted["week"].n_unique()
    display = DISPLAY_COST_PER_STORE_WEEK * store_weeks if scope.display else 0.0
    feature = FEATURE_COST_PER_WEEK * weeks if scope.feature else 0.0
    incremental_margin = margin - baseline_margin
    net_margin = incremental_margin + sibling_margin + dip_margin - display - feature
    net_cost = markdown + display + feature - funding
    methods = promoted.group_by("method").len().sort("method").iter_rows()
    return {
        "units": {
            "sold": round(sold, 1),
            "baseline": round(baseline_units, 1),
            "incremental": round(sold - baseline_units, 1),
            "lift_pct": _pct(sold, baseline_units),
            "cannibalised": round(max(0.0, -sibling_units), 1),
            "halo": round(max(0.0, sibling_units), 1),
            "pull_forward": round(max(0.0, -dip_units), 1),
            "net_incremental": round(sold - baseline_units + sibling_units + dip_units, 1),
        },
        "money": {
            "revenue": round(revenue, 2),
            "baseline_revenue": round(baseline_revenue, 2),
            "incremental_revenue": round(revenue - baseline_revenue, 2),
            "margin": round(margin, 2),
            "baseline_margin": round(baseline_margin, 2),
            "incremental_margin": round(incremental_margin, 2),
            "cannibalised_margin": round(-sibling_margin, 2),
            "pull_forward_margin": round(-dip_margin, 2),
            "net_incremental_margin": round(net_margin, 2),
        },
        "costs": {
            "markdown": round(markdown, 2),
            "display": round(display, 2),
            "feature": round(feature, 2),
            "vendor_funding_earned": round(funding, 2),
            "net_cost": round(net_cost, 2),
            "roi": round(net_margin / net_cost, 3) if net_cost > 0 else None,
            "assumptions": {
                "display_cost_per_store_week": DISPLAY_COST_PER_STORE_WEEK,
                "feature_cost_per_week": FEATURE_COST_PER_WEEK,
            },
        },
        "baseline_method": {str(name): int(count) for name, count in methods},
        "weekly": weekly(promoted, dip),
    }


def weekly(promoted: pl.DataFrame, dip: pl.DataFrame) -> list[dict[str, Any]]:
    """Units sold and baseline per week of the promotion and the week after (for charts)."""
    rows = (
        pl.concat(
            [
                promoted.select("week", "units", "baseline_units"),
                dip.select("week", "units", "baseline_units"),
            ]
        )
        .group_by("week")
        .agg(pl.col("units").sum(), pl.col("baseline_units").sum())
        .sort("week")
    )
    return [
        {"week": week.isoformat(), "sold": round(sold, 1), "baseline": round(base, 1)}
        for week, sold, base in rows.iter_rows()
    ]


def _pct(value: float, reference: float) -> float | None:
    return round(100 * (value / reference - 1), 1) if reference else None

"""One variant's figures from its forecast lines, the catalogue terms and the stores' stock.

Stock risk is the planning risk model the launch gates use (`planning.risk`): window
demand fitted to each line's mean and P10–P90, against the stock available by the
start date. Margin counts expected sales (demand capped by that stock) at the
variant's price, plus vendor funding per unit sold; the baseline margin counts the
no-promotion forecast at the regular price, capped by the same stock.
"""

from __future__ import annotations

import polars as pl

from promoflow.kit.money import MoneyAmount
from promoflow.planning.risk import assess_stockout_risk, summarise_risk
from promoflow.whatif.grid import Variant
from promoflow.whatif.schemas import VariantOutcome

KEY = ["item_id", "location_id"]
LIKELY_OUT = 0.5  # more likely out of stock than not


def line_figures(
    forecast: pl.DataFrame,
    terms: pl.DataFrame,
    stock: pl.DataFrame,
    *,
    variant: Variant,
    weeks: float,
    vendor_funding: float,
) -> pl.DataFrame:
    """Per item x store: forecast, stock risk, expected sales, revenue and margins."""
    lines = (
        forecast.select(*KEY, "baseline_units", "promoted_units", "p10", "p50", "p90")
        .join(terms.select("item_id", "regular_price", "unit_cost"), on="item_id", how="left")
        .join(stock.select(*KEY, "available"), on=KEY, how="left")
        .with_columns(
            pl.col("available").fill_null(0.0),
            pl.col("regular_price").fill_null(0.0),
            pl.col("unit_cost").fill_null(0.0),
        )
    )
    risk = assess_stockout_risk(
        lines.with_columns(
            pl.col("available").alias("on_hand"),
            pl.lit(0.0).alias("on_order_due"),
            pl.lit(0.0).alias("allocated"),
            (pl.col("baseline_units") / weeks).alias("baseline_weekly_units"),
        )
    )
    price = pl.col("regular_price") * (1.0 - variant.depth)
    sold = (pl.col("promoted_units") - pl.col("expected_lost_units")).clip(lower_bound=0.0)
    baseline_sold = pl.min_horizontal("baseline_units", "available")
    return risk.with_columns(
        sold.alias("expected_sold_units"),
        (sold * price).alias("revenue"),
        (sold * (price - pl.col("unit_cost") + vendor_funding)).alias("promoted_margin"),
        (baseline_sold * (pl.col("regular_price") - pl.col("unit_cost"))).alias("baseline_margin"),
    )


def variant_outcome(
    lines: pl.DataFrame, variant: Variant, *, is_draft: bool, warnings: list[str], currency: str
) -> VariantOutcome:
    """Roll one variant's lines up to the figures a planner compares."""
    totals = lines.select(
        pl.col("p50").sum(),
        pl.col("p10").sum(),
        pl.col("p90").sum(),
        pl.col("baseline_units").sum(),
        pl.col("available").sum(),
        pl.col("expected_sold_units").sum(),
        pl.col("revenue").sum(),
        pl.col("promoted_margin").sum(),
        pl.col("baseline_margin").sum(),
        (pl.col("stockout_probability") >= LIKELY_OUT).sum().alias("likely_out"),
    ).row(0, named=True)
    risk = summarise_risk(lines).row(0, named=True) if lines.height else {}
    baseline = float(totals["baseline_units"] or 0.0)
    p50 = float(totals["p50"] or 0.0)
    available = float(totals["available"] or 0.0)
    left = float(risk.get("expected_left_units") or 0.0)
    promoted = MoneyAmount.of(float(totals["promoted_margin"] or 0.0), currency)
    baseline_margin = MoneyAmount.of(float(totals["baseline_margin"] or 0.0), currency)
    return VariantOutcome(
        depth_percent=variant.depth_percent,
        mechanic=variant.mechanic,
        display=variant.display,
        feature=variant.feature,
        is_draft=is_draft,
        units_p50=round(p50, 1),
        units_p10=round(float(totals["p10"] or 0.0), 1),
        units_p90=round(float(totals["p90"] or 0.0), 1),
        baseline_units=round(baseline, 1),
        uplift_units=round(p50 - baseline, 1),
        uplift_pct=round((p50 / baseline - 1.0) * 100.0, 1) if baseline > 0 else None,
        expected_sold_units=round(float(totals["expected_sold_units"] or 0.0), 1),
        revenue=MoneyAmount.of(float(totals["revenue"] or 0.0), currency),
        promoted_margin=promoted,
        baseline_margin=baseline_margin,
        # From the rounded amounts, so the three shown always add up.
        incremental_margin=MoneyAmount.of(promoted.amount - baseline_margin.amount, currency),
        available_units=round(available, 1),
        stockout_probability_mean=round(float(risk.get("mean_stockout_probability") or 0.0), 4),
        stockout_probability_max=round(float(risk.get("max_stockout_probability") or 0.0), 4),
        item_stores_likely_out=int(totals["likely_out"] or 0),
        expected_lost_units=round(float(risk.get("expected_lost_units") or 0.0), 1),
        expected_left_units=round(left, 1),
        leftover_share=round(left / available, 4) if available > 0 else None,
        overstock_weeks=round(float(risk.get("overstock_weeks") or 0.0), 2),
        warnings=warnings,
    )

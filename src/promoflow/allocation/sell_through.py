"""Sell-through against the forecast while a promotion is live: which lines run off pace.

Sales to date per item x store are compared with the forecast's P10–P90 interval
pro-rated to the share of the window that has elapsed. A line is anomalous above
when it sells faster than `above_p90_factor` x the P90 pace, below when slower than
`below_p10_factor` x the P10 pace, and in either case by at least `min_units_gap`
units (small stores' noise is not an anomaly).

What to do about it, per line:
- above, and the other target stores hold more of the item than their own rest of
  the window needs: transfer between stores (from those stores);
- above otherwise: expedite replenishment;
- below: re-forecast the rest of the window and check display and shelf execution.
"""

from __future__ import annotations

import polars as pl

from promoflow.allocation.policy import SellThroughSettings

KEY = ["item_id", "location_id"]
ABOVE, BELOW = "above", "below"
TRANSFER = "transfer_between_stores"
EXPEDITE = "expedite_replenishment"
REFORECAST = "re_forecast_and_check_display"
ACTION_TEXT = {
    TRANSFER: "transfer stock between stores: the other stores hold more than they will sell",
    EXPEDITE: "expedite replenishment: ask the supplier or DC for an earlier delivery",
    REFORECAST: "re-forecast the rest of the window and check display and shelf execution",
}


def find_anomalies(
    forecast: pl.DataFrame,
    sold: pl.DataFrame,
    stock: pl.DataFrame,
    *,
    share: float,
    settings: SellThroughSettings,
) -> pl.DataFrame:
    """Anomalous lines with direction, pace bounds and suggested action.

    forecast: item_id, location_id, promoted_units, p10, p90 (whole window);
    sold: item_id, location_id, units (window to date); stock: item_id, location_id,
    available (on hand + in transit when the window opened). `share` is the elapsed
    share of the window, in (0, 1].
    """
    lines = (
        forecast.select(*KEY, "promoted_units", "p10", "p90")
        .join(sold.select(*KEY, "units"), on=KEY, how="left")
        .join(stock.select(*KEY, "available"), on=KEY, how="left")
        .with_columns(
            actual_units=pl.col("units").fill_null(0.0),
            available=pl.col("available").fill_null(0.0),
            expected_units=pl.col("promoted_units") * share,
            expected_low=pl.col("p10") * share,
            expected_high=pl.col("p90") * share,
        )
    )
    above = (pl.col("actual_units") > pl.col("expected_high") * settings.above_p90_factor) & (
        pl.col("actual_units") - pl.col("expected_high") >= settings.min_units_gap
    )
    below = (pl.col("actual_units") < pl.col("expected_low") * settings.below_p10_factor) & (
        pl.col("expected_low") - pl.col("actual_units") >= settings.min_units_gap
    )
    # What the rest of the window will ask of each store at the faster of forecast and
    # actual pace, against what it has left.
    rest = (1.0 - share) * pl.max_horizontal(
        pl.col("promoted_units"), pl.col("actual_units") / share
    )
    judged = lines.with_columns(
        direction=pl.when(above).then(pl.lit(ABOVE)).when(below).then(pl.lit(BELOW)),
        spare=pl.col("available") - pl.col("actual_units") - rest,
    )
    spare_elsewhere = (
        judged.filter(pl.col("direction").is_null() | (pl.col("direction") == BELOW))
        .filter(pl.col("spare") > 0)
        .group_by("item_id")
        .agg(
            pl.col("spare").sum().alias("spare_elsewhere"),
            pl.col("location_id").sort_by("spare", descending=True).alias("transfer_from"),
        )
    )
    return (
        judged.filter(pl.col("direction").is_not_null())
        .join(spare_elsewhere, on="item_id", how="left")
        .with_columns(
            suggested_action=pl.when(pl.col("direction") == BELOW)
            .then(pl.lit(REFORECAST))
            .when(
                (pl.col("spare") < 0)
                & (pl.col("spare_elsewhere").fill_null(0.0) >= -pl.col("spare"))
            )
            .then(pl.lit(TRANSFER))
            .otherwise(pl.lit(EXPEDITE)),
        )
        .with_columns(
            transfer_from=pl.when(pl.col("suggested_action") == TRANSFER).then(
                pl.col("transfer_from")
            )
        )
        .select(
            *KEY,
            "direction",
            "actual_units",
            "expected_units",
            "expected_low",
            "expected_high",
            "suggested_action",
            "transfer_from",
        )
        .sort("direction", "item_id", "location_id")
    )

"""Execution variance of a launched promotion: what was planned against what happened.

- launch per channel: the planned launch (the lifecycle's timing) against when the
  channel's publication went out; per store, its channel's launch and whether its
  readiness tasks were confirmed by then;
- readiness at launch: the gate round in force when publishing began; a gate counts
  as ready only when it passed without a waiver;
- per item x store: forecast against actual lift (both over the forecast's baseline),
  the stock the store had for the event (there already plus allocated) against what
  sold, and the weeks of the window in which it sold out.

Actual sales come from the sales feed, as the lifecycle's post-event step reads
them: the whole window once the promotion ended, the days elapsed while it is live.
"""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, time, timedelta

import polars as pl
from sqlalchemy.orm import Session

from promoflow.connectors.ports import SalesFeed, SalesRecord
from promoflow.execution import repository as repo
from promoflow.execution.readiness import channel_launches, readiness_at_launch, store_launches
from promoflow.execution.schemas import ExecutionVariance, LineVariance, VarianceTotals
from promoflow.kit.clock import utcnow
from promoflow.kit.errors import Conflict
from promoflow.promotions import service as promotions_service
from promoflow.promotions.models import Promotion
from promoflow.promotions.states import PromotionState

KEY = ["item_id", "location_id"]
SOLD_OUT_SLACK = 0.5  # units: sales feeds round, a shelf with half a unit left is empty


def execution_variance(
    session: Session, ref: str, sales_feed: SalesFeed, *, now: datetime | None = None
) -> ExecutionVariance:
    """Planned against actual for the launched promotion `ref` (Conflict before launch)."""
    promotion = promotions_service.find_promotion(session, ref)
    launched = repo.first_entered(session, promotion.id, PromotionState.LIVE)
    if launched is None:
        raise Conflict(
            f"status={promotion.status!r}: promotion {promotion.code} has not launched; "
            "execution variance compares a launched promotion with its plan",
            field="status",
            value=promotion.status,
        )
    publishing = repo.first_entered(session, promotion.id, PromotionState.PUBLISHING) or launched
    planned = _planned_launch(promotion)
    publications = repo.publications(session, promotion.id, promotion.revision)
    locations = repo.scope_locations(session, promotion.id)
    channels = channel_launches(publications, planned)
    tasks = repo.store_tasks(session, promotion.id, promotion.revision)
    days, window = _days_covered(promotion, now or utcnow())
    lines = _lines(session, promotion, locations, sales_feed, days)
    totals = _totals(lines)
    forecast = repo.forecast_lines(session, promotion.id, promotion.revision)
    models = sorted(set(forecast["model_version"].to_list()))
    return ExecutionVariance(
        promotion=promotion.code,
        promotion_id=promotion.id,
        revision=promotion.revision,
        status=promotion.status,
        window=f"{promotion.start_date} to {promotion.end_date}",
        actuals_through=str(promotion.start_date + timedelta(days=days - 1)) if days else "-",
        days_covered=days,
        window_days=window,
        forecast_model=", ".join(models) or None,
        channels=channels,
        stores=store_launches(locations, channels, tasks, planned, publishing),
        readiness=readiness_at_launch(
            repo.gate_results(session, promotion.id, promotion.revision),
            repo.waivers(session, promotion.id, promotion.revision),
            publishing,
        ),
        totals=totals,
        lines=[LineVariance.model_validate(row) for row in lines.to_dicts()],
    )


def _planned_launch(promotion: Promotion) -> datetime:
    """The lifecycle's planned launch (compressed in the demo), else the start date."""
    launch_at = (promotion.timing or {}).get("launch_at")
    if launch_at:
        moment = datetime.fromisoformat(str(launch_at))
        return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return datetime.combine(promotion.start_date, time.min, tzinfo=UTC)


def _days_covered(promotion: Promotion, now: datetime) -> tuple[int, int]:
    """(days of the window with actuals, days in the window): the elapsed share of the
    lifecycle's launch-to-end clock while live, the whole window afterwards."""
    window = (promotion.end_date - promotion.start_date).days + 1
    timing = promotion.timing or {}
    if promotion.status != PromotionState.LIVE or "end_at" not in timing:
        return window, window
    opened = datetime.fromisoformat(str(timing["launch_at"])).timestamp()
    ends = datetime.fromisoformat(str(timing["end_at"])).timestamp()
    share = min(1.0, max(0.0, (now.timestamp() - opened) / max(ends - opened, 1e-9)))
    return min(window, math.floor(share * window)), window


def _daily_sales(records: list[SalesRecord]) -> pl.DataFrame:
    return pl.DataFrame(
        [(r.sku, r.location_code, r.day, r.units) for r in records],
        schema={"sku": pl.String, "code": pl.String, "day": pl.Date, "units": pl.Float64},
        orient="row",
    )


def _lines(
    session: Session,
    promotion: Promotion,
    locations: pl.DataFrame,
    sales_feed: SalesFeed,
    days: int,
) -> pl.DataFrame:
    """One row per forecast line: forecast, actual, allocation, stock, stockout weeks."""
    items = repo.scope_items(session, promotion.id)
    start = promotion.start_date
    records = (
        sales_feed.sales(
            items["sku"].to_list(),
            locations["code"].to_list(),
            start,
            start + timedelta(days=days - 1),
        )
        if days and items.height and locations.height
        else []
    )
    daily = (
        _daily_sales(records)
        .join(items, on="sku")
        .join(locations.select("location_id", "code"), on="code")
    )
    window = (promotion.end_date - start).days + 1
    share = days / window
    stock = _event_stock(session, promotion)
    forecast = repo.forecast_lines(session, promotion.id, promotion.revision)
    sold = daily.group_by(KEY).agg(pl.col("units").sum().alias("actual_units"))
    weeks = math.ceil(days / 7)
    out = _stockout_weeks(daily, stock, start, weeks)
    lines = (
        forecast.join(sold, on=KEY, how="left")
        .join(stock, on=KEY, how="left")
        .join(out, on=KEY, how="left")
        .join(items, on="item_id", how="left")
        .join(locations.select("location_id", pl.col("code").alias("store")), on="location_id")
        .with_columns(
            pl.col("actual_units").fill_null(0.0),
            pl.col("allocated").fill_null(0.0),
            pl.col("stock_units").fill_null(0.0),
            # A line that sold nothing and had no stock was out all along.
            pl.col("stockout_weeks").fill_null(
                pl.when(pl.col("stock_units").fill_null(0.0) <= 0).then(weeks).otherwise(0)
            ),
            (pl.col("baseline_units") * share).alias("baseline_units"),
            (pl.col("promoted_units") * share).alias("forecast_units"),
            (pl.col("p10") * share).alias("p10"),
            (pl.col("p90") * share).alias("p90"),
        )
    )
    lift = _lift_pct
    return lines.select(
        "sku",
        "store",
        pl.col("baseline_units").round(1),
        pl.col("forecast_units").round(1),
        pl.col("actual_units").round(1),
        lift(pl.col("forecast_units")).alias("forecast_lift_pct"),
        lift(pl.col("actual_units")).alias("actual_lift_pct"),
        (lift(pl.col("actual_units")) - lift(pl.col("forecast_units")))
        .round(1)
        .alias("lift_gap_pts"),
        pl.col("actual_units").is_between(pl.col("p10"), pl.col("p90")).alias("within_p10_p90"),
        pl.col("allocated").round(1).alias("allocated_units"),
        pl.col("stock_units").round(1),
        pl.when(pl.col("stock_units") > 0)
        .then((pl.col("actual_units") / pl.col("stock_units")).round(4))
        .alias("sell_through"),
        pl.col("stockout_weeks").cast(pl.Int64),
        pl.lit(weeks, dtype=pl.Int64).alias("weeks"),
    ).sort("sku", "store")  # fmt: skip


def _lift_pct(units: pl.Expr) -> pl.Expr:
    baseline = pl.col("baseline_units")
    return pl.when(baseline > 0).then(((units / baseline - 1.0) * 100.0).round(1))


def _event_stock(session: Session, promotion: Promotion) -> pl.DataFrame:
    """Stock each line had for the event: at the store when allocation was planned plus
    what the allocation sent; lines the allocation left alone, what the store holds."""
    allocated = repo.allocated_stock(session, promotion.id, promotion.revision)
    shelf = repo.shelf_stock(session, promotion.id)
    return (
        shelf.join(allocated, on=KEY, how="full", coalesce=True)
        .with_columns(
            pl.when(pl.col("allocated").is_not_null())
            .then(pl.col("store_stock").fill_null(0.0) + pl.col("allocated"))
            .otherwise(pl.col("shelf").fill_null(0.0))
            .alias("stock_units"),
            pl.col("allocated").fill_null(0.0),
        )
        .select(*KEY, "allocated", "stock_units")
    )


def _stockout_weeks(
    daily: pl.DataFrame, stock: pl.DataFrame, start: date, weeks: int
) -> pl.DataFrame:
    """Per line, the weeks of the window (7-day blocks from the start) from the one its
    sales reached its stock in to the last one covered."""
    sold_out = (
        daily.sort("day")
        .join(stock.select(*KEY, "stock_units"), on=KEY, how="left")
        .with_columns(pl.col("units").cum_sum().over(KEY).alias("cumulative"))
        .filter(pl.col("cumulative") >= pl.col("stock_units").fill_null(0.0) - SOLD_OUT_SLACK)
        .group_by(KEY)
        .agg(pl.col("day").min().alias("sold_out_on"))
    )
    block = (pl.col("sold_out_on") - pl.lit(start)).dt.total_days() // 7
    return sold_out.select(*KEY, (weeks - block).clip(lower_bound=0).alias("stockout_weeks"))


def _totals(lines: pl.DataFrame) -> VarianceTotals:
    row = lines.select(
        pl.col("forecast_units").sum(),
        pl.col("actual_units").sum(),
        pl.col("baseline_units").sum(),
        pl.col("allocated_units").sum(),
        pl.col("stock_units").sum(),
        (pl.col("stockout_weeks") > 0).sum().alias("with_stockout"),
        pl.col("stockout_weeks").sum(),
        pl.col("weeks").sum(),
    ).row(0, named=True)
    baseline = float(row["baseline_units"] or 0.0)
    stock = float(row["stock_units"] or 0.0)

    def lift(units: float) -> float | None:
        return round((units / baseline - 1.0) * 100.0, 1) if baseline > 0 else None

    forecast, actual = float(row["forecast_units"] or 0.0), float(row["actual_units"] or 0.0)
    return VarianceTotals(
        forecast_units=round(forecast, 1),
        actual_units=round(actual, 1),
        baseline_units=round(baseline, 1),
        forecast_lift_pct=lift(forecast),
        actual_lift_pct=lift(actual),
        allocated_units=round(float(row["allocated_units"] or 0.0), 1),
        stock_units=round(stock, 1),
        sell_through=round(actual / stock, 4) if stock > 0 else None,
        item_stores=lines.height,
        item_stores_with_stockout=int(row["with_stockout"] or 0),
        stockout_weeks=int(row["stockout_weeks"] or 0),
        item_store_weeks=int(row["weeks"] or 0),
    )

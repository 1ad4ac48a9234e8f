"""A promotion run through the workflow: its sales from the POS feed, beside the history.

The lifecycle's post-event step reads a promotion's actuals from the sales feed, day
by day over its dates; so does this. The panel the counterfactual reads is the
seeded weekly history before the promotion (its pre-period) plus, for the
promotion's days and the whole week after its last week (where a pull-forward
shows), the feed's sales of every item of the category at every store and web shop
(the comparable stores). A cell of the promotion's period covers only
the promotion's days in its week, the same days at every store, so a window of
three days compares three days with three days (docs/post-event.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

import polars as pl
from sqlalchemy.orm import Session

from promoflow.connectors.ports import SalesFeed
from promoflow.postevent import repository
from promoflow.postevent.repository import PANEL_SCHEMA
from promoflow.promotions.models import Promotion

DAILY_SCHEMA = {
    "sku": pl.Utf8,
    "location_code": pl.Utf8,
    "day": pl.Date,
    "units": pl.Float64,
    "revenue": pl.Float64,
}


@dataclass(frozen=True)
class LivePromotion:
    """A closed promotion of the workflow, as the post-event report needs it."""

    promotion_id: int
    code: str
    name: str
    revision: int
    mechanic: str
    first_day: date
    last_day: date
    skus: tuple[str, ...]
    categories: tuple[str, ...]
    location_codes: tuple[str, ...]
    nominal_depth: float
    display: bool
    feature: bool
    funding_per_unit: Decimal

    @property
    def days(self) -> int:
        """Days in the promotion's window."""
        return (self.last_day - self.first_day).days + 1

    @property
    def posting_key(self) -> str:
        """The key the lifecycle posted the promotion's result under (steps.post_finance)."""
        return f"{self.code}-r{self.revision}-finance"


def monday(day: date) -> date:
    """The Monday of `day`'s week (the weeks of the history start on Monday)."""
    return day - timedelta(days=day.weekday())


def describe(session: Session, promotion: Promotion) -> LivePromotion:
    """The promotion's scope and terms, read once."""
    items = repository.promotion_items(session, promotion.id)
    regular = sum(reg for _, _, reg, _ in items)
    promo = sum(price for _, _, _, price in items)
    return LivePromotion(
        promotion_id=promotion.id,
        code=promotion.code,
        name=promotion.name,
        revision=promotion.revision,
        mechanic=promotion.mechanic,
        first_day=promotion.start_date,
        last_day=promotion.end_date,
        skus=tuple(sku for sku, *_ in items),
        categories=tuple(sorted({category for _, category, _, _ in items})),
        location_codes=tuple(repository.promotion_location_codes(session, promotion.id)),
        nominal_depth=1.0 - promo / regular if regular else 0.0,
        display=promotion.display_support,
        feature=promotion.feature_support,
        funding_per_unit=promotion.vendor_funding_per_unit,
    )


def week_after(live: LivePromotion) -> date:
    """The Monday of the whole week after the window's last week: the week a pull-forward
    (the dip after a promotion) is measured in."""
    return monday(live.last_day) + timedelta(weeks=1)


def week_shares(live: LivePromotion) -> dict[date, float]:
    """Share of each week of the window that the window covers (1.0 for a whole week)."""
    shares: dict[date, float] = {}
    for offset in range(live.days):
        week = monday(live.first_day + timedelta(days=offset))
        shares[week] = shares.get(week, 0.0) + 1 / 7
    return {week: min(1.0, share) for week, share in shares.items()}


def category_panel(
    session: Session, live: LivePromotion, category: str, feed: SalesFeed
) -> pl.DataFrame:
    """The category's weekly history before the promotion and its sales in the window."""
    history = repository.category_panel(session, category).filter(
        pl.col("week") < monday(live.first_day)
    )
    items = repository.catalogue_items(session, [category])
    codes = repository.selling_location_codes(session)
    after = week_after(live)
    records = feed.sales([sku for sku, *_ in items], codes, live.first_day, after + timedelta(6))
    # The days between the window's end and the week after belong to neither: counted,
    # they would pad the window's last (partial) week.
    daily = pl.DataFrame(
        [(r.sku, r.location_code, r.day, r.units, float(r.revenue)) for r in records],
        schema=DAILY_SCHEMA,
        orient="row",
    ).filter((pl.col("day") <= live.last_day) | (pl.col("day") >= after))
    if daily.filter(pl.col("day") == after + timedelta(6)).is_empty():
        # The feed has not sold the whole week after yet: a part of it would read as a dip.
        daily = daily.filter(pl.col("day") <= live.last_day)
    promoted = pl.DataFrame(
        # Through the week after: a pair promoted again then shows no dip to measure.
        repository.promoted_pairs(session, [category], live.first_day, after + timedelta(6)),
        schema={"sku": pl.Utf8, "location_code": pl.Utf8, "first": pl.Date, "last": pl.Date},
        orient="row",
    )
    on_promo = (
        daily.join(promoted, on=["sku", "location_code"], how="inner")
        .filter(pl.col("day").is_between(pl.col("first"), pl.col("last")))
        .select("sku", "location_code", "day")
        .unique()
        .with_columns(pl.lit(True).alias("on_promo"))
    )
    item_frame = pl.DataFrame(
        items,
        schema={
            "sku": pl.Utf8,
            "item_id": pl.Int64,
            "unit_cost": pl.Float64,
            "regular_price": pl.Float64,
        },
        orient="row",
    )
    places = pl.DataFrame(
        repository.location_ids(session, codes),
        schema={"location_code": pl.Utf8, "location_id": pl.Int64, "region": pl.Utf8},
        orient="row",
    )
    weekly = (
        daily.join(on_promo, on=["sku", "location_code", "day"], how="left")
        .with_columns(
            pl.col("on_promo").fill_null(False),
            (pl.col("day") - pl.duration(days=pl.col("day").dt.weekday() - 1)).alias("week"),
        )
        .group_by("sku", "location_code", "week")
        .agg(pl.col("units").sum(), pl.col("revenue").sum(), pl.col("on_promo").any())
        .join(item_frame, on="sku")
        .join(places, on="location_code")
        .with_columns(
            # A cell that sold nothing has no price of its own; its revenue is nought anyway.
            pl.when(pl.col("units") > 0)
            .then(pl.col("revenue") / pl.col("units"))
            .otherwise(pl.col("regular_price"))
            .alias("price"),
            # The feed never reports an empty shelf: its sales stop at the stock.
            pl.lit(False).alias("stockout"),
        )
        .select(list(PANEL_SCHEMA))
        .cast(PANEL_SCHEMA)  # type: ignore[arg-type]
    )
    return pl.concat([history, weekly])

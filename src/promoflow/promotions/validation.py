"""Validation rules a promotion revision must satisfy before it is assessed.

Every rule runs set-based over the whole scope (items x locations), so a promotion
of 1,000 SKUs across 1,000 stores validates in well under two seconds.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from decimal import Decimal
from typing import Any

import polars as pl
from sqlalchemy.orm import Session

from promoflow.kit.clock import utcnow
from promoflow.promotions import repository
from promoflow.promotions.models import Promotion, ValidationFinding

BLOCKING = "blocking"
WARNING = "warning"
MAX_WINDOW_DAYS = 56  # 8 weeks: longer promotions erode the regular price
MAX_DEPTH = 0.70
LISTED_CODES = 10  # location codes spelled out in one message; details keep them all

# rule -> message: what is wrong (naming the SKU or field), the rule, what to do.
# Rule names are stable: the UI, the API and exception cases key on them.
MESSAGES: dict[str, str] = {
    "item_inactive": "{sku} is inactive (rule {rule}); reactivate it or remove it",
    "item_discontinued": "{sku} is discontinued (rule {rule}); remove it from the promotion",
    "item_restricted": "{sku} is restricted and may not be discounted (rule {rule}); remove it",
    "item_not_eligible": (
        "{sku} is not promotion-eligible (rule {rule}); remove it or have it made eligible"
    ),
    "item_not_ranged": (
        "{sku} is not ranged at {count} of {total} target locations: {listed} (rule {rule}); "
        "range it there or remove those locations"
    ),
    "overlapping_promotion": (
        "{sku} is already on promotion {other_promotion} at {listed} in these dates "
        "(rule {rule}); move the dates or remove the item"
    ),
    "price_below_cost": (
        "{sku} promo price {promo_price:.2f} is below unit cost {unit_cost:.2f} (rule {rule}); "
        "finance must approve the margin loss"
    ),
    "channel_price_mismatch": (
        "{sku} regular price differs between channels ({listed}) (rule {rule}); "
        "align the regular prices before the promotion"
    ),
    "start_date_in_past": (
        "start_date {start_date} is before today {today} (rule {rule}); choose a later start"
    ),
    "window_too_long": (
        "the promotion runs {days} days ({start_date} to {end_date}), over 8 weeks "
        "(rule {rule}); check end_date: long promotions erode the regular price"
    ),
    "discount_too_deep": "{sku} is {percent:.1f} % off, over 70 % (rule {rule}); check it",
    "multi_buy_get_exceeds_buy": (
        "buy {buy_quantity} get {get_quantity} free gives away more than it sells "
        "(rule {rule}); get_quantity must not exceed buy_quantity"
    ),
    "bundle_too_few_items": (
        "a bundle needs at least 2 items, this one has {items} (rule {rule}); add items"
    ),
    "not_a_discount": (
        "{what} {price:.2f} is not below the regular {regular:.2f} (rule {rule}); lower it"
    ),
}
# Warnings inform the approvers (price_below_cost adds a finance approval, which the
# price gate requires); every other rule blocks the promotion.
WARNINGS = frozenset({"price_below_cost", "window_too_long", "discount_too_deep"})
RULES = tuple(MESSAGES)


def validate_promotion(
    session: Session, promotion: Promotion, *, today: date | None = None
) -> list[ValidationFinding]:
    """Run every rule for the promotion's current revision; replaces earlier findings."""
    today = today or utcnow().date()
    scope = repository.scope_item_frame(session, promotion.id)
    codes = {loc.id: loc.code for loc in repository.scope_locations(session, promotion.id)}
    found = [
        *_item_master(scope),
        *_not_ranged(session, promotion.id, scope, codes),
        *_overlaps(session, promotion, scope, codes),
        *_below_cost(scope),
        *_channel_mismatch(session, promotion, scope),
        *_dates(promotion, today),
        *_mechanic(promotion, scope),
    ]
    repository.delete_findings(session, promotion.id, promotion.revision)
    findings = [
        ValidationFinding(promotion_id=promotion.id, revision=promotion.revision, **fields)
        for fields in found
    ]
    session.add_all(findings)
    session.flush()
    return findings


def _finding(
    rule: str, sku: str | None = None, location: str | None = None, **details: Any
) -> dict[str, Any]:
    """A finding whose message names the item, the location, the rule and the remedy."""
    message = MESSAGES[rule].format(rule=rule, sku=sku, location=location, **details)
    details.pop("listed", None)  # only there to shorten the message
    severity = WARNING if rule in WARNINGS else BLOCKING
    return {
        "rule": rule,
        "severity": severity,
        "item_sku": sku,
        "location_code": location,
        "message": message,
        "details": details,
    }


def _listed(codes: list[str]) -> str:
    more = len(codes) - LISTED_CODES
    shown = ", ".join(codes[:LISTED_CODES])
    return f"{shown} and {more} more" if more > 0 else shown


def _item_master(scope: pl.DataFrame) -> Iterable[dict[str, Any]]:
    flags = scope.select(
        "sku",
        item_inactive=pl.col("status") == "inactive",
        item_discontinued=pl.col("status") == "discontinued",
        item_restricted=pl.col("restricted"),
        item_not_eligible=~pl.col("promo_eligible"),
    )
    for rule in ("item_inactive", "item_discontinued", "item_restricted", "item_not_eligible"):
        for sku in flags.filter(pl.col(rule))["sku"]:
            yield _finding(rule, sku)


def _with_codes(frame: pl.DataFrame, scope: pl.DataFrame, codes: dict[int, str]) -> pl.DataFrame:
    code = pl.col("location_id").replace_strict(codes, return_dtype=pl.String)
    return frame.join(scope.select("item_id", "sku"), on="item_id").with_columns(code=code)


def _not_ranged(
    session: Session, promotion_id: int, scope: pl.DataFrame, codes: dict[int, str]
) -> Iterable[dict[str, Any]]:
    """One finding per item, listing the target locations that do not carry it."""
    gaps = repository.unranged_pairs(session, promotion_id)
    per_item = _with_codes(gaps, scope, codes).group_by("sku").agg(pl.col("code").sort())
    for sku, missing in per_item.sort("sku").iter_rows():
        yield _finding(
            "item_not_ranged",
            sku,
            missing[0],
            count=len(missing),
            total=len(codes),
            listed=_listed(missing),
            locations=missing,
        )


def _overlaps(
    session: Session, promotion: Promotion, scope: pl.DataFrame, codes: dict[int, str]
) -> Iterable[dict[str, Any]]:
    """One finding per (other promotion, item), listing the shared locations."""
    rows = repository.overlapping(session, promotion, promotion.start_date, promotion.end_date)
    schema = {
        "other_id": pl.Int64,
        "other_code": pl.String,
        "item_id": pl.Int64,
        "location_id": pl.Int64,
    }
    frame = pl.DataFrame(rows, schema=schema, orient="row")
    grouped = (
        _with_codes(frame, scope, codes).group_by("other_code", "sku").agg(pl.col("code").sort())
    )
    for other, sku, shared in grouped.sort("sku", "other_code").iter_rows():
        yield _finding(
            "overlapping_promotion",
            sku,
            shared[0],
            other_promotion=other,
            listed=_listed(shared),
            locations=shared,
        )


def _below_cost(scope: pl.DataFrame) -> Iterable[dict[str, Any]]:
    below = scope.filter(pl.col("promo_price") < pl.col("unit_cost"))
    for sku, price, cost in below.select("sku", "promo_price", "unit_cost").iter_rows():
        yield _finding(
            "price_below_cost",
            sku,
            promo_price=price,
            unit_cost=cost,
            margin_per_unit=round(price - cost, 2),
        )


def _channel_mismatch(
    session: Session, promotion: Promotion, scope: pl.DataFrame
) -> Iterable[dict[str, Any]]:
    """Regular prices that differ between channels would show the promotion at two prices."""
    if len(set(promotion.channels)) < 2:
        return
    mismatches = channel_price_mismatches(repository.scope_regular_prices(session, promotion))
    described = mismatches.join(scope.select("item_id", "sku"), on="item_id").select(
        "sku",
        pl.format("{}: {}", "zone", pl.col("prices").list.join(" vs ")).alias("zone"),
    )
    per_item = described.group_by("sku").agg(pl.col("zone").sort())
    for sku, zones in per_item.sort("sku").iter_rows():
        yield _finding("channel_price_mismatch", sku, listed="; ".join(zones), zones=zones)


def _dates(promotion: Promotion, today: date) -> Iterable[dict[str, Any]]:
    start, end = promotion.start_date, promotion.end_date
    if start < today:
        yield _finding("start_date_in_past", start_date=str(start), today=str(today))
    days = (end - start).days + 1
    if days > MAX_WINDOW_DAYS:
        yield _finding("window_too_long", days=days, start_date=str(start), end_date=str(end))


def _mechanic(promotion: Promotion, scope: pl.DataFrame) -> Iterable[dict[str, Any]]:
    depth = 1 - pl.col("promo_price") / pl.col("regular_price")
    deep = scope.filter(pl.col("regular_price") > 0, depth > MAX_DEPTH)
    for sku, price, regular in deep.select("sku", "promo_price", "regular_price").iter_rows():
        percent = (1 - price / regular) * 100
        yield _finding("discount_too_deep", sku, percent=percent, depth=round(percent / 100, 4))
    buy, get = promotion.buy_quantity or 0, promotion.get_quantity or 0
    if promotion.mechanic == "multi_buy" and get > buy:
        yield _finding("multi_buy_get_exceeds_buy", buy_quantity=buy, get_quantity=get)
    if promotion.mechanic == "bundle" and scope.height < 2:
        yield _finding("bundle_too_few_items", items=scope.height)
    bundle_price = float(promotion.bundle_price or Decimal(0))
    regular_total = float(scope["regular_price"].sum())
    if promotion.mechanic == "bundle" and scope.height and bundle_price >= regular_total:
        yield _finding(
            "not_a_discount", what="bundle price", price=bundle_price, regular=regular_total
        )
    if promotion.mechanic == "fixed_price":
        same_or_dearer = scope.filter(pl.col("promo_price") >= pl.col("regular_price"))
        for sku, price, regular in same_or_dearer.select(
            "sku", "promo_price", "regular_price"
        ).iter_rows():
            yield _finding(
                "not_a_discount", sku, what=f"{sku} fixed price", price=price, regular=regular
            )


def channel_price_mismatches(prices: pl.DataFrame) -> pl.DataFrame:
    """Item x zone rows whose channels carry different regular prices.

    `prices` lists each channel's price as "pos 3.99" for messages and evidence.
    """
    cents = (pl.col("amount") * 100).round().cast(pl.Int64)
    label = pl.format(
        "{} {}.{}", "channel", cents // 100, (cents % 100).cast(pl.String).str.zfill(2)
    )
    return (
        prices.sort("channel")
        .group_by("item_id", "zone")
        .agg(
            label.alias("prices"),
            pl.col("amount").n_unique().alias("n_prices"),
            pl.col("channel").n_unique().alias("n_channels"),
        )
        .filter(pl.col("n_prices") > 1, pl.col("n_channels") > 1)
        .select("item_id", "zone", "prices")
        .sort("item_id", "zone")
    )

"""What several pages show about a promotion: its reference, readiness and deciding figures."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy.orm import Session

from promoflow.approvals.queue import queue_rules, stock_risk
from promoflow.approvals.schemas import QueueRules
from promoflow.console import repository
from promoflow.console.schemas import PromotionContext, PromotionRef, Readiness, SlaClock
from promoflow.identity.schemas import BannerScope
from promoflow.kit.errors import NotFound
from promoflow.promotions.mechanics import discount_depth
from promoflow.promotions.models import Promotion

CENT = Decimal("0.01")


def cents(value: object) -> Decimal:
    """A SQL sum (float, Decimal or None) as an amount to the cent."""
    return Decimal(str(value or 0)).quantize(CENT, rounding=ROUND_HALF_UP)


def ref_of(promotion: Promotion) -> PromotionRef:
    return PromotionRef(
        promotion_id=promotion.id,
        code=promotion.code,
        name=promotion.name,
        state=promotion.status,
        start_date=promotion.start_date,
        end_date=promotion.end_date,
    )


def readiness(evaluated: bool, failing: bool) -> Readiness:
    if not evaluated:
        return Readiness.NOT_EVALUATED
    return Readiness.SOME_FAILING if failing else Readiness.ALL_PASSED


def sla_clock(due_at: datetime, now: datetime) -> SlaClock:
    seconds = int((due_at - now).total_seconds())
    return SlaClock(
        due_at=due_at,
        overdue=seconds < 0,
        remaining_seconds=max(seconds, 0),
        overdue_seconds=max(-seconds, 0),
    )


def visible_promotion(session: Session, ref: int | str, banners: BannerScope) -> Promotion:
    """The promotion by id or code; NotFound alike when absent or outside the banners."""
    found = repository.promotion(session, ref, banners)
    if found is None:
        raise NotFound(f"promotion {ref!r} not found", promotion=str(ref))
    return found


def depths(session: Session, promotion_ids: Collection[int]) -> dict[int, float]:
    """The deepest discount in each promotion's scope (0.25 = 25 % off)."""
    deepest: dict[int, float] = defaultdict(float)
    for pid, promo, regular in repository.scope_prices(session, promotion_ids):
        deepest[int(pid)] = max(deepest[int(pid)], discount_depth(promo, regular))
    return {pid: round(depth, 4) for pid, depth in deepest.items()}


def contexts(
    session: Session, promotion_ids: Collection[int], rules: QueueRules | None = None
) -> dict[int, PromotionContext]:
    """The deciding figures of each promotion's current revision, in a few reads.

    Margin impact is the approval matrix's (promotion vs doing nothing, from the
    forecast); None before a forecast exists. Risk is the approval queue's early
    stock risk (stock against the forecast's P90).
    """
    if not promotion_ids:
        return {}
    ids = list(promotion_ids)
    deepest = depths(session, ids)
    money = {int(row[0]): row for row in repository.forecast_money_of(session, ids)}
    rules = rules or queue_rules(None, None)
    coverage = repository.stock_coverage(session, ids, rules.min_coverage_ratio)
    found: dict[int, PromotionContext] = {}
    for promotion in repository.promotions(session, ids):
        row = money.get(promotion.id)
        baseline = float(row[1] or 0) if row is not None else 0.0
        promoted = float(row[2] or 0) if row is not None else 0.0
        uplift = round(100 * (promoted / baseline - 1), 1) if baseline > 0 else None
        risk, _ = stock_risk(coverage.get(promotion.id), rules)
        found[promotion.id] = PromotionContext(
            promotion_id=promotion.id,
            code=promotion.code,
            name=promotion.name,
            state=promotion.status,
            mechanic=promotion.mechanic,
            start_date=promotion.start_date,
            end_date=promotion.end_date,
            depth=deepest.get(promotion.id, 0.0),
            forecast_uplift_pct=uplift,
            margin_impact=cents(row[5]) if row is not None else None,
            risk=str(risk),
        )
    return found

"""Sales feed -> live monitoring: sales reported for items of live promotions check their
sell-through at once, instead of waiting for the workflow's next scheduled check.

The check is the workflow's own (`sell_through_tx.check_sell_through`), so a line
already flagged is not flagged twice, whichever of the two saw it first.
"""

from __future__ import annotations

import math
from datetime import datetime

from promoflow.allocation import repository as repo
from promoflow.allocation import sell_through_tx as live
from promoflow.allocation import steps
from promoflow.allocation.schemas import PreparedCheck
from promoflow.events.consumers import CloudEvent, Delivery
from promoflow.kit.clock import utcnow
from promoflow.kit.db import reading
from promoflow.promotions.models import Promotion
from promoflow.promotions.states import PromotionState
from promoflow.runtime import get_runtime


def elapsed_days(promotion: Promotion, now: datetime) -> tuple[int, int, float]:
    """(whole days of the window elapsed, days in the window, elapsed share), as the
    workflow counts them: on its (possibly compressed) launch-to-end clock."""
    window = (promotion.end_date - promotion.start_date).days + 1
    timing = promotion.timing or {}
    if "launch_at" not in timing or "end_at" not in timing:
        return 0, window, 0.0
    opened = datetime.fromisoformat(timing["launch_at"]).timestamp()
    ends = datetime.fromisoformat(timing["end_at"]).timestamp()
    share = min(1.0, max(0.0, (now.timestamp() - opened) / max(ends - opened, 1e-9)))
    return min(window, math.floor(share * window)), window, share


def prepare_checks(event: CloudEvent) -> list[PreparedCheck]:
    """For each live promotion on the reported items: the sales to date from the feed."""
    item_ids = [int(i) for i in (event.get("data") or {}).get("item_ids", [])]
    if not item_ids:
        return []
    with reading(get_runtime().sessions) as session:
        promotions = repo.live_promotions_for_items(session, item_ids)
        now = utcnow()
        due = [(p.id, *elapsed_days(p, now)) for p in promotions]
    policy = steps.planning_policy()
    min_share = float(policy["sell_through"]["min_elapsed_share"])
    checks: list[PreparedCheck] = []
    for promotion_id, days, window, _share in due:
        if days < 1 or days / window < min_share:
            continue
        sold = steps.sales_to_date(promotion_id, days)
        checks.append(
            {
                "promotion_id": promotion_id,
                "days": days,
                "window_days": window,
                "sold": sold,
                "policy": policy,
            }
        )
    return checks


def on_sales_reported(delivery: Delivery) -> None:
    """Run the prepared sell-through checks in the consumer's transaction."""
    prepared: list[PreparedCheck] = delivery.prepared or []
    for check in prepared:
        promotion = repo.promotion(delivery.session, check["promotion_id"])
        if promotion is None or promotion.status != PromotionState.LIVE:
            continue
        live.check_sell_through(
            delivery.session,
            check["promotion_id"],
            check["sold"],
            check["days"],
            check["window_days"],
            check["policy"],
        )

"""A promotion with a post-event analysis, for the tests of how amounts are shown."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from promoflow.kit.clock import utcnow
from promoflow.runtime import get_runtime

# What the post-event analysis records (lifecycle.transactions.analyse), as numbers.
ANALYSIS = {
    "actual_units": 120.0,
    "forecast_units": 100.0,
    "baseline_units": 80.0,
    "forecast_error_pct": -16.7,
    "realised_lift_pct": 50.0,
    "revenue": 1234.5,
    "margin": -183.44,
    "vendor_funding": 30.0,
}


def analysed_draft(code: str, weeks_ahead: int) -> str:
    """A draft with a post-event analysis recorded, as the workflow's analyse step writes it."""
    from promoflow.events.service import record_event
    from promoflow.kit.db import transaction
    from promoflow.lifecycle import commands
    from promoflow.promotions.schemas import PromotionCreate
    from promoflow.scenario import picking

    with get_runtime().sessions() as session:
        region = picking.regions(session)[-1]
        skus = picking.promotable_skus(session, region=region, count=1)
    start = utcnow().date() + timedelta(weeks=weeks_ahead)
    draft = commands.create_promotion(
        PromotionCreate(
            code=code,
            name="analysed draft",
            mechanic="percent_off",
            discount_percent=Decimal(10),
            start_date=start,
            end_date=start + timedelta(days=6),
            channels=["pos"],
            items=skus,
            regions=[region],
        ),
        "mia.merch",
    )
    with transaction(get_runtime().sessions) as session:
        record_event(
            session,
            "promotion.analysed",
            f"promotion/{draft.id}",
            {"from": "ended", "to": "analysed", "reason": "sold", "revision": 1, **ANALYSIS},
            promotion_id=draft.id,
        )
    return draft.code

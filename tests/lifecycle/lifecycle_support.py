"""Helpers for lifecycle tests: plan, submit and drive promotions on the seeded retailer."""

from __future__ import annotations

import itertools
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Any

from promoflow.kit.clock import utcnow
from promoflow.lifecycle import commands
from promoflow.promotions.schemas import PromotionCreate
from promoflow.runtime import Runtime, get_runtime
from promoflow.scenario import estate_actions, picking
from promoflow.scenario.desk import Desk, PromotionScript

_used_skus: set[str] = set()
_regions = itertools.count(1)


@dataclass
class Planned:
    promotion_id: int
    code: str
    skus: list[str]
    region: str
    workflow_id: str = ""


def submit(
    planned: Planned, *, launch_lead_hours: float = 10.0, live_hours: float = 10.0
) -> Planned:
    planned.workflow_id = commands.submit_promotion(
        planned.promotion_id,
        "mia.merch",
        launch_lead_hours=launch_lead_hours,
        live_hours=live_hours,
    )
    return planned


def status_of(promotion_id: int) -> tuple[str, str]:
    from promoflow.promotions.models import Promotion

    with get_runtime().sessions() as session:
        promotion = session.get(Promotion, promotion_id)
        assert promotion is not None
        return promotion.status, promotion.status_reason


def drive(
    planned: Planned,
    until: Callable[[str], bool],
    *,
    desk: Desk | None = None,
    timeout: float = 60.0,
) -> str:
    """Let the desk act until the promotion's status satisfies `until`; returns the status."""
    deadline = time.monotonic() + timeout
    status = ""
    while time.monotonic() < deadline:
        if desk is not None:
            desk.tick()
        status, _ = status_of(planned.promotion_id)
        if until(status):
            return status
        time.sleep(0.05)
    raise AssertionError(f"{planned.code} stuck in {status!r}: {status_of(planned.promotion_id)}")


def desk_for(planned: Planned, **script: Any) -> Desk:
    return Desk({planned.code: PromotionScript(planned.code, **script)}, think_hours=0.0)


def make_planned(rt: Runtime, items: int = 3, weeks_of_cover: float = 8.0, **terms: Any) -> Planned:
    """A draft on items nobody else in the run uses, stocked at `weeks_of_cover`."""
    with rt.sessions() as session:
        regions = picking.regions(session)
        region = regions[next(_regions) % len(regions)]
        skus = picking.promotable_skus(session, region=region, count=items, exclude=_used_skus)
    assert len(skus) == items, f"region {region} has too few promotable items left"
    _used_skus.update(skus)
    estate_actions.set_cover(rt, skus, [region], weeks_of_cover=weeks_of_cover)
    # Ten weeks out: clear of the API tests' promotions, never in the past.
    start = utcnow().date() + timedelta(weeks=10)
    fields: dict[str, Any] = {
        "mechanic": "percent_off",
        "discount_percent": Decimal(10),
        "channels": ["pos", "ecommerce"],
    }
    fields.update(terms)
    request = PromotionCreate(
        code=f"T-{uuid.uuid4().hex[:8]}",
        name="test promotion",
        start_date=start,
        end_date=start + timedelta(days=6),
        items=skus,
        regions=[region],
        **fields,
    )
    created = commands.create_promotion(request, "mia.merch")
    return Planned(created.id, created.code, skus, region)

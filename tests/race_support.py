"""Two people (or a person and the workflow) acting on one record at the same instant.

`race` starts its actions together behind a barrier, each in its own thread and so
in its own session and transaction, and reports what each one got. The hand-made
promotions sit three years out on the seeded retailer, so no other test's
promotion overlaps them, and `retire` cancels them when a test is done.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from promoflow.kit.errors import PromoflowError

# Each round is a fresh record; on PostgreSQL before the fix most rounds let both win,
# so a handful is enough to see it every time while keeping the run short.
ROUNDS = 6


@dataclass
class Outcome:
    """What one racer got: a value, or the domain error that refused it."""

    value: Any = None
    error: PromoflowError | None = None

    @property
    def won(self) -> bool:
        return self.error is None


def race(*actions: Callable[[], Any]) -> list[Outcome]:
    """Run the actions at the same instant, one thread (and transaction) each."""
    barrier = threading.Barrier(len(actions))

    def run(action: Callable[[], Any]) -> Outcome:
        barrier.wait(timeout=30)
        try:
            return Outcome(value=action())
        except PromoflowError as error:
            return Outcome(error=error)

    with ThreadPoolExecutor(max_workers=len(actions)) as pool:
        futures = [pool.submit(run, action) for action in actions]
        return [future.result(timeout=120) for future in futures]


def one_winner(outcomes: Sequence[Outcome]) -> tuple[int, Outcome, Outcome]:
    """(index of the winner, winner, loser) of a two-way race; fails unless exactly one won."""
    assert len(outcomes) == 2
    winners = [index for index, outcome in enumerate(outcomes) if outcome.won]
    assert len(winners) == 1, f"expected one winner, got {outcomes}"
    index = winners[0]
    return index, outcomes[index], outcomes[1 - index]


def hand_made_promotion(
    status: str, *, requested_by: str = "mia.merch", items: int = 2, stores: int = 2
) -> int:
    """A promotion in `status` on seeded items and stores, as the workflow would leave it."""
    from promoflow.catalog.models import Item, Location
    from promoflow.kit.db import transaction
    from promoflow.promotions.models import Promotion, PromotionItem, PromotionLocation
    from promoflow.runtime import get_runtime
    from promoflow.scenario import picking

    with transaction(get_runtime().sessions) as session:
        region = picking.regions(session)[-1]
        skus = picking.promotable_skus(session, region=region, count=items)
        start = date.today() + timedelta(days=3 * 365)
        promotion = Promotion(
            code=f"RACE-{uuid.uuid4().hex[:10]}",
            name="race",
            status=status,
            revision=1,
            requested_by=requested_by,
            category="mixed",
            mechanic="percent_off",
            discount_percent=Decimal(10),
            start_date=start,
            end_date=start + timedelta(days=6),
            channels=["pos"],
            timing={},
        )
        session.add(promotion)
        session.flush()
        promotion.workflow_id = f"promotion-{promotion.id}-rev-1"
        for item in session.scalars(sa.select(Item).where(Item.sku.in_(skus))):
            price = (Decimal(item.regular_price) * Decimal("0.9")).quantize(Decimal("0.01"))
            session.add(
                PromotionItem(promotion_id=promotion.id, item_id=item.id, promo_price=price)
            )
        store_ids = session.scalars(
            sa.select(Location.id)
            .where(Location.region == region, Location.kind == "store")
            .order_by(Location.id)
            .limit(stores)
        ).all()
        for location_id in store_ids:
            session.add(PromotionLocation(promotion_id=promotion.id, location_id=location_id))
        return promotion.id


def retire(promotion_ids: Sequence[int]) -> None:
    """Cancel the hand-made promotions so later tests see nothing of them in flight."""
    from promoflow.kit.db import transaction
    from promoflow.promotions.models import Promotion
    from promoflow.runtime import get_runtime

    if not promotion_ids:
        return
    with transaction(get_runtime().sessions) as session:
        session.execute(
            sa.update(Promotion)
            .where(Promotion.id.in_(list(promotion_ids)))
            .values(status="cancelled", status_reason="race test over")
        )


def events(type_: str, subject: str) -> list[Any]:
    """The events of one type about one subject, in the order written."""
    from promoflow.events.models import Event
    from promoflow.runtime import get_runtime

    with get_runtime().sessions() as session:
        return list(
            session.scalars(
                sa.select(Event)
                .where(Event.type == f"io.promoflow.{type_}", Event.subject == subject)
                .order_by(Event.sequence)
            ).all()
        )

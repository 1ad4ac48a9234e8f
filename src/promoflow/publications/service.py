"""Publication records, the price changes each channel receives, store readiness tasks."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy.orm import Session

from promoflow.connectors.ports import PriceChange, PublicationReceipt, StoreTaskRequest
from promoflow.events.log import record_event
from promoflow.kit.clock import utcnow
from promoflow.kit.errors import Conflict, InvalidInput
from promoflow.promotions import service as promotions_service
from promoflow.promotions.models import Promotion
from promoflow.promotions.states import PromotionState
from promoflow.publications import repository
from promoflow.publications.models import Publication, StoreTask
from promoflow.publications.schemas import ChannelProgress, PublicationStatus, StoreTaskStatus

# Store readiness matters from the moment the tasks are sent (scheduled) until the
# promotion's window is over; on_hold is a pause inside that span. Confirming a task
# of a draft, a rejected, cancelled or finished promotion records nothing anyone uses.
CONFIRMABLE_STATES: tuple[PromotionState, ...] = (
    PromotionState.SCHEDULED,
    PromotionState.PUBLISHING,
    PromotionState.LIVE,
    PromotionState.ON_HOLD,
)


def publication_key(session: Session, promotion: Promotion, channel: str) -> str:
    """Idempotency key per promotion revision x channel x item set."""
    skus = sorted(item.sku for _, item in promotions_service.scope_items(session, promotion.id))
    digest = hashlib.sha256(",".join(skus).encode()).hexdigest()[:12]
    return f"{promotion.code}-r{promotion.revision}-{channel}-{digest}"


def publications(session: Session, promotion_id: int, revision: int) -> Sequence[Publication]:
    """The revision's publication per channel, in the order they were first attempted."""
    return repository.publications(session, promotion_id, revision)


def ensure_publication(session: Session, promotion: Promotion, channel: str) -> Publication:
    """The publication row for this revision and channel, created on first use."""
    existing = repository.publication(session, promotion.id, promotion.revision, channel)
    if existing is not None:
        return existing
    row = Publication(
        promotion_id=promotion.id,
        revision=promotion.revision,
        channel=channel,
        publication_key=publication_key(session, promotion, channel),
        status=PublicationStatus.PENDING,
    )
    session.add(row)
    session.flush()
    return row


PRICED = ("pos", "ecommerce")


def price_changes(session: Session, promotion: Promotion, channel: str) -> list[PriceChange]:
    """Every price the channel must activate: item x store for POS, item x web node online."""
    if channel == "pos":
        locations = list(promotions_service.scope_locations(session, promotion.id))
    elif channel == "ecommerce":
        locations = list(repository.ecommerce_locations(session))
    else:
        raise InvalidInput("channel", channel, "prices are published to 'pos' or 'ecommerce'")
    return [
        PriceChange(
            sku=item.sku,
            location_code=location.code,
            channel=channel,
            price=Decimal(pi.promo_price),
            regular_price=Decimal(item.regular_price),
            start=promotion.start_date,
            end=promotion.end_date,
        )
        for pi, item in promotions_service.scope_items(session, promotion.id)
        for location in locations
    ]


def record_attempt(
    session: Session, promotion: Promotion, channel: str, part: int, outcome: str, detail: str = ""
) -> None:
    """Log one publication attempt (each real call is a fact, retried or not)."""
    record_event(
        session,
        "publication.attempted",
        f"promotion/{promotion.id}/{channel}",
        {
            "channel": channel,
            "part": part,
            "outcome": outcome,
            "detail": detail,
            "revision": promotion.revision,
        },
        promotion_id=promotion.id,
    )


def mark_published(
    session: Session, promotion: Promotion, channel: str, receipts: list[PublicationReceipt]
) -> Publication:
    """The channel accepted every part."""
    row = ensure_publication(session, promotion, channel)
    row.status = PublicationStatus.PUBLISHED
    row.item_count = sum(r.accepted for r in receipts)
    row.external_ref = ",".join(sorted({r.external_ref for r in receipts}))[:120]
    row.published_at = utcnow()
    row.last_error = ""
    record_event(
        session,
        "publication.published",
        f"promotion/{promotion.id}/{channel}",
        {
            "channel": channel,
            "key": row.publication_key,
            "prices": row.item_count,
            "duplicates": sum(1 for r in receipts if r.duplicate),
            "revision": promotion.revision,
        },
        promotion_id=promotion.id,
    )
    return row


def mark_status(
    session: Session, promotion: Promotion, channel: str, status: str, detail: str = ""
) -> Publication:
    """Record failed, skipped or reverted for the channel's publication."""
    row = ensure_publication(session, promotion, channel)
    row.status = status
    if status == PublicationStatus.FAILED:
        row.last_error = detail[:2000]
        row.attempts += 1
    record_event(
        session,
        f"publication.{status}",
        f"promotion/{promotion.id}/{channel}",
        {
            "channel": channel,
            "key": row.publication_key,
            "detail": detail,
            "revision": promotion.revision,
        },
        promotion_id=promotion.id,
    )
    return row


def channel_progress(
    session: Session,
    promotion: Promotion,
    channel: str,
    *,
    part_size: int,
    since: datetime | None = None,
) -> ChannelProgress:
    """How far the channel's publication of the promotion's current revision has got.

    Parts are cut as the workflow cuts them (`part_size`, the runtime's setting);
    `since` counts only the attempts from that moment (a retry's own progress).
    """
    row = repository.publication(session, promotion.id, promotion.revision, channel)
    prices = len(price_changes(session, promotion, channel)) if channel in PRICED else 0
    outcomes: dict[int, str] = {}
    for data, _at in repository.attempt_outcomes(session, promotion.id, channel, since):
        if data.get("revision") == promotion.revision and isinstance(data.get("part"), int):
            outcomes[int(data["part"])] = str(data.get("outcome", ""))
    return ChannelProgress(
        channel=channel,
        status=row.status if row is not None else PublicationStatus.PENDING,
        prices=prices,
        parts=max(1, -(-prices // max(1, part_size))),
        outcomes=outcomes,
        attempts=row.attempts if row is not None else 0,
        last_error=row.last_error if row is not None else "",
        publication_key=row.publication_key if row is not None else None,
    )


def create_store_tasks(session: Session, promotion: Promotion) -> list[StoreTaskRequest]:
    """Signage for every store in scope, plus a display build when the promotion has one."""
    kinds = ["signage"] + (["display_build"] if promotion.display_support else [])
    due = promotion.start_date - timedelta(days=1)
    requests: list[StoreTaskRequest] = []
    existing = {
        (t.location_id, t.kind)
        for t, _ in repository.store_tasks(session, promotion.id, promotion.revision)
    }
    for location in promotions_service.scope_locations(session, promotion.id):
        for kind in kinds:
            if (location.id, kind) not in existing:
                session.add(
                    StoreTask(
                        promotion_id=promotion.id,
                        revision=promotion.revision,
                        location_id=location.id,
                        kind=kind,
                    )
                )
            requests.append(
                StoreTaskRequest(
                    location_code=location.code, kind=kind, promotion_code=promotion.code, due=due
                )
            )
    record_event(
        session,
        "store_tasks.created",
        f"promotion/{promotion.id}",
        {"tasks": len(requests), "kinds": kinds, "revision": promotion.revision},
        promotion_id=promotion.id,
    )
    session.flush()
    return requests


def confirm_store_tasks(
    session: Session, promotion: Promotion, location_codes: list[str] | None, actor: str
) -> int:
    """Mark open tasks confirmed for the given stores (all when None); returns how many.

    Only while the promotion is in CONFIRMABLE_STATES. Refused with a Conflict naming who
    confirmed them when none of the tasks asked for is still open, so of two people
    confirming at once the second is told, rather than shown a silent zero.
    """
    # Promotion first, then its tasks: the state cannot change under the check, and
    # two confirmations are serialised.
    promotions_service.lock(session, promotion)
    if promotion.status not in CONFIRMABLE_STATES:
        raise Conflict(
            f"promotion {promotion.code} is {promotion.status}; store tasks can be confirmed "
            f"only while it is {', '.join(CONFIRMABLE_STATES)}",
            status=promotion.status,
        )
    tasks = repository.store_tasks(session, promotion.id, promotion.revision, for_update=True)
    known = {location.code for _, location in tasks}
    for index, code in enumerate(location_codes or []):
        if code not in known:
            raise InvalidInput(
                f"location_codes[{index}]",
                code,
                f"no store task for this store on promotion {promotion.code}",
            )
    wanted = set(location_codes) if location_codes is not None else known
    asked = [task for task, location in tasks if location.code in wanted]
    still_open = [task for task in asked if task.status == StoreTaskStatus.OPEN]
    if not still_open:
        raise Conflict(_nothing_to_confirm(promotion, asked), status=promotion.status)
    now = utcnow()
    for task in still_open:
        task.status = StoreTaskStatus.CONFIRMED
        task.confirmed_by = actor
        task.confirmed_at = now
    record_event(
        session,
        "store_tasks.confirmed",
        f"promotion/{promotion.id}",
        {
            "confirmed": len(still_open),
            "stores": sorted(wanted)[:50],
            "revision": promotion.revision,
        },
        promotion_id=promotion.id,
        actor=actor,
    )
    return len(still_open)


def _nothing_to_confirm(promotion: Promotion, asked: list[StoreTask]) -> str:
    if not asked:
        return (
            f"promotion {promotion.code} has no store tasks for revision {promotion.revision} "
            "yet; they are sent once it is scheduled"
        )
    people = sorted({task.confirmed_by for task in asked if task.confirmed_by})
    return (
        f"the store tasks asked for on promotion {promotion.code} are already confirmed by "
        f"{', '.join(people) or 'someone'}; nothing is left to confirm"
    )

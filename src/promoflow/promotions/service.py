"""Create, submit and move promotions through their states. Never commits."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session

from promoflow.catalog.models import Item, Location
from promoflow.events.log import record_event
from promoflow.events.models import Event
from promoflow.identity.schemas import BannerScope
from promoflow.kit.bounds import MAX_ID
from promoflow.kit.clock import utcnow
from promoflow.kit.errors import Conflict, Forbidden, InvalidInput, NotFound, OutOfScope
from promoflow.kit.identity import same_person
from promoflow.kit.preconditions import entity_tag
from promoflow.kit.roles import Role
from promoflow.promotions import repository
from promoflow.promotions.codes import insert_with_code
from promoflow.promotions.mechanics import effective_unit_price
from promoflow.promotions.models import (
    Promotion,
    PromotionItem,
    PromotionLocation,
    PromotionRevision,
    ValidationFinding,
)
from promoflow.promotions.schemas import CODE, PromotionCreate
from promoflow.promotions.states import PromotionState, check_transition

if TYPE_CHECKING:
    import polars as pl

# Besides its requester, who may cancel someone else's draft.
DRAFT_ADMIN_ROLE = Role.OPERATIONS_ADMIN


def workflow_id_for(promotion_id: int, revision: int) -> str:
    """The lifecycle workflow id: one per promotion revision, so a retry never starts a twin."""
    return f"promotion-{promotion_id}-rev-{revision}"


def get_promotion(session: Session, promotion_id: int, *, for_update: bool = False) -> Promotion:
    """One promotion by id, or NotFound; `for_update` holds its row lock (see repository)."""
    promotion = repository.get(session, promotion_id, for_update=for_update)
    if promotion is None:
        raise NotFound(f"promotion {promotion_id} does not exist", promotion_id=promotion_id)
    return promotion


def find_promotion(session: Session, ref: str, *, banners: BannerScope | None = None) -> Promotion:
    """A promotion by id (ASCII digits) or code; codes are never all digits, so no ref is both.

    With `banners`, a promotion outside them is answered as one that does not exist
    (OutOfScope, a NotFound with the same message).
    """
    promotion = None
    if ref.isascii() and ref.isdigit():
        # `"¹".isdigit()` is true too, and int() of it fails: only ASCII digits are an id.
        number = int(ref)
        if 1 <= number <= MAX_ID:
            promotion = repository.get(session, number)
    elif CODE.fullmatch(ref):
        promotion = repository.get_by_code(session, ref)
    # Anything else (NUL, other scripts' digits) cannot name a promotion: no query runs.
    missing = f"promotion {ref[:80]!r} does not exist; see `promoflow promotions list`"
    if promotion is None:
        raise NotFound(missing)
    if banners is not None and not within_banners(session, promotion.id, banners):
        raise OutOfScope(missing)
    return promotion


def lock(session: Session, promotion: Promotion) -> Promotion:
    """Re-read a loaded promotion under its row lock, so its state cannot change under a check."""
    return repository.lock(session, promotion)


def list_promotions(session: Session, status: str | None = None) -> Sequence[Promotion]:
    """Promotions, oldest first, optionally in one status."""
    return repository.list_promotions(session, status)


def promotions_page(
    session: Session,
    status: str | None,
    limit: int,
    offset: int = 0,
    *,
    banners: BannerScope | None = None,
    after: int | None = None,
) -> tuple[Sequence[Promotion], int]:
    """One page of promotions, oldest first (after promotion id `after`), and how many match.

    With `banners`, only the promotions whose every store lies in them (the access
    policy's banner scope).
    """
    return repository.promotions_page(session, status, limit, offset, banners=banners, after=after)


def authors_of_revision(session: Session, promotion: Promotion) -> set[str]:
    """Who made the promotion's current revision: its requester and whoever revised it
    while that revision was open (segregation of duties keeps them from approving it or
    waiving its gates)."""
    return {promotion.requested_by} | repository.revisers_of(
        session, promotion.id, promotion.revision
    )


def within_banners(session: Session, promotion_id: int, banners: BannerScope) -> bool:
    """True when every store of the promotion lies in `banners` (the access policy's rule)."""
    if banners.every:
        return True
    if not banners.names:
        return False  # an empty scope sees nothing, as in `repository.visible_to`
    return repository.banners_of(session, promotion_id) <= banners.names


def event_log_page(
    session: Session, promotion_id: int, limit: int, offset: int = 0, *, after: int | None = None
) -> tuple[Sequence[Event], int]:
    """One page of the promotion's event log (every revision, in the order written), after
    event sequence `after`."""
    return repository.event_log_page(session, promotion_id, limit, offset, after=after)


def promotion_tag(
    session: Session,
    promotion: Promotion,
    items: Sequence[tuple[PromotionItem, Item]] | None = None,
    places: Sequence[Location] | None = None,
) -> str:
    """The strong ETag of the promotion as the API shows it: its row's version and what
    its scope shows of the catalogue (item names and prices, store names), which can
    change without the promotion changing. Pass the scope when it is already read."""
    if items is None:
        items = scope_items(session, promotion.id)
    if places is None:
        places = scope_locations(session, promotion.id)
    shown_items = [
        (item.sku, item.name, str(item.regular_price), str(scoped.promo_price))
        for scoped, item in items
    ]
    shown_places = [(place.code, place.name, place.kind, place.region) for place in places]
    return entity_tag(promotion, shown_items, shown_places)


def scope_items(session: Session, promotion_id: int) -> Sequence[tuple[PromotionItem, Item]]:
    """The promoted items with their promo prices, in item order."""
    return repository.scope_items(session, promotion_id)


def scope_locations(session: Session, promotion_id: int) -> Sequence[Location]:
    """The target locations, in location order."""
    return repository.scope_locations(session, promotion_id)


def findings(session: Session, promotion: Promotion) -> Sequence[ValidationFinding]:
    """The validation findings of the promotion's current revision."""
    return repository.findings(session, promotion.id, promotion.revision)


def overlapping(
    session: Session, promotion: Promotion, start: date, end: date
) -> Sequence[tuple[int, str, int, int]]:
    """(promotion id, code, item id, location id) of other active promotions sharing its scope."""
    return repository.overlapping(session, promotion, start, end)


def scope_regular_prices(session: Session, promotion: Promotion) -> pl.DataFrame:
    """Regular price per item x zone x channel in force on the start date (see repository)."""
    return repository.scope_regular_prices(session, promotion)


def create_promotion(
    session: Session, data: PromotionCreate, actor: str, *, banners: BannerScope | None = None
) -> Promotion:
    """Create a draft promotion; unknown items, locations or regions are refused whole.

    With `banners` (the caller's scope), every store must be one of theirs (see
    `resolve_locations`).
    """
    items = resolve_items(session, data)
    locations = resolve_locations(session, data, banners)
    categories = sorted({item.category for item in items.values()})

    def build(code: str) -> Promotion:
        return Promotion(
            code=code,
            name=data.name,
            description=data.description,
            status=PromotionState.DRAFT,
            revision=1,
            requested_by=actor,
            category=categories[0] if len(categories) == 1 else "mixed",
            mechanic=data.mechanic,
            discount_percent=data.discount_percent,
            discount_amount=data.discount_amount,
            fixed_price=data.fixed_price,
            buy_quantity=data.buy_quantity,
            get_quantity=data.get_quantity,
            bundle_price=data.bundle_price,
            start_date=data.start_date,
            end_date=data.end_date,
            channels=list(data.channels),
            display_support=data.display_support,
            feature_support=data.feature_support,
            vendor_funding_per_unit=data.vendor_funding_per_unit,
            timing={},
        )

    promotion = insert_with_code(session, build, data.code)
    code = promotion.code
    add_scope(session, promotion, data, items, locations)
    record_event(
        session,
        "promotion.created",
        f"promotion/{promotion.id}",
        {"code": code, "items": len(items), "locations": len(locations)},
        promotion_id=promotion.id,
        actor=actor,
    )
    session.flush()
    return promotion


def add_scope(
    session: Session,
    promotion: Promotion,
    data: PromotionCreate,
    items: dict[str, Item],
    locations: list[int],
) -> None:
    """Price the items under the promotion's terms and add them and the locations to its scope."""
    bundle_total = sum((Decimal(i.regular_price) for i in items.values()), Decimal(0))
    for sku in data.items:
        item = items[sku]
        price = effective_unit_price(promotion, Decimal(item.regular_price), bundle_total)
        if price < 0:
            raise InvalidInput(
                "discount_amount",
                str(data.discount_amount),
                f"takes item {sku} below zero (regular {item.regular_price})",
            )
        session.add(PromotionItem(promotion_id=promotion.id, item_id=item.id, promo_price=price))
    for location in locations:
        session.add(PromotionLocation(promotion_id=promotion.id, location_id=location))


def resolve_items(session: Session, data: PromotionCreate) -> dict[str, Item]:
    """The requested items by SKU; an unknown SKU is refused naming its position."""
    items = repository.items_by_sku(session, data.items)
    for index, sku in enumerate(data.items):
        if sku not in items:
            raise InvalidInput(f"items[{index}]", sku, "unknown item (no such SKU)")
    return items


def resolve_locations(
    session: Session, data: PromotionCreate, banners: BannerScope | None = None
) -> list[int]:
    """The location ids of the requested stores and regions; unknown ones are refused.

    With `banners` (the caller's scope), a named store of another banner is refused,
    and a region stands for its stores of the caller's banners only.
    """
    found = repository.locations_by_code(session, data.locations)
    ids: list[int] = []
    for index, code in enumerate(data.locations):
        location = found.get(code)
        if location is None:
            raise InvalidInput(f"locations[{index}]", code, "unknown location code")
        if banners is not None and not banners.allows(location.banner):
            raise InvalidInput(
                f"locations[{index}]",
                code,
                f"is a store of banner {location.banner!r}; you act for "
                f"{', '.join(banners.as_list()) or 'no banner'}",
            )
        ids.append(location.id)
    if data.regions:
        known = repository.known_regions(session)
        for index, region in enumerate(data.regions):
            if region not in known:
                raise InvalidInput(
                    f"regions[{index}]", region, f"unknown region; known: {sorted(known)}"
                )
            stores = repository.stores_in_regions(session, [region])
            if banners is not None:
                stores = [store for store in stores if banners.allows(store.banner)]
                if not stores:
                    raise InvalidInput(
                        f"regions[{index}]",
                        region,
                        f"has no store of your banners ({', '.join(banners.as_list())})",
                    )
            ids.extend(store.id for store in stores)
    return sorted(set(ids))


def snapshot(session: Session, promotion: Promotion) -> dict[str, Any]:
    """The promotion's terms and scope as plain data (stored per revision)."""
    items = repository.scope_items(session, promotion.id)
    locations = repository.scope_locations(session, promotion.id)
    return {
        "code": promotion.code,
        "name": promotion.name,
        "mechanic": promotion.mechanic,
        "start_date": promotion.start_date.isoformat(),
        "end_date": promotion.end_date.isoformat(),
        "channels": promotion.channels,
        "items": {item.sku: str(pi.promo_price) for pi, item in items},
        "locations": [loc.code for loc in locations],
        "display_support": promotion.display_support,
        "feature_support": promotion.feature_support,
        "vendor_funding_per_unit": str(promotion.vendor_funding_per_unit),
    }


def submit_promotion(
    session: Session, promotion_id: int, actor: str, timing: dict[str, Any]
) -> Promotion:
    """Freeze the current revision and mark it submitted; the caller starts the workflow."""
    # Locked: a cancel of the draft at the same instant either wins or sees it submitted.
    promotion = get_promotion(session, promotion_id, for_update=True)
    if promotion.status == PromotionState.REJECTED:
        promotion.revision += 1
    elif promotion.status != PromotionState.DRAFT:
        raise Conflict(
            f"promotion {promotion.code} is {promotion.status}; only a draft or a rejected "
            "promotion can be submitted",
        )
    session.add(
        PromotionRevision(
            promotion_id=promotion.id,
            revision=promotion.revision,
            snapshot=snapshot(session, promotion),
            created_by=actor,
        )
    )
    promotion.timing = timing
    promotion.workflow_id = workflow_id_for(promotion.id, promotion.revision)
    transition(session, promotion, PromotionState.SUBMITTED, "submitted for approval", actor)
    return promotion


def ensure_may_cancel(
    promotion: Promotion, actor: str, role: str, *, action: str = "cancel"
) -> None:
    """Only its requester (the same person, however spelt) or operations_admin cancels
    (or revises) it."""
    if role != DRAFT_ADMIN_ROLE and not same_person(actor, promotion.requested_by):
        kind = "a draft" if promotion.status == PromotionState.DRAFT else "a promotion"
        raise Forbidden(
            f"promotion {promotion.code} is {kind} of {promotion.requested_by}; only they or "
            f"{DRAFT_ADMIN_ROLE} may {action} it, not {actor} ({role})",
            actor=actor,
            requested_by=promotion.requested_by,
        )


def cancel_draft(
    session: Session, promotion: Promotion, actor: str, role: str, reason: str
) -> Promotion:
    """Cancel a draft: only its requester or operations_admin."""
    ensure_may_cancel(promotion, actor, role)
    return transition(session, promotion, PromotionState.CANCELLED, reason, actor)


def transition(
    session: Session,
    promotion: Promotion,
    target: str,
    reason: str,
    actor: str = "system",
    data: dict[str, Any] | None = None,
) -> Promotion:
    """Move the promotion to `target` and log the event in the same transaction."""
    check_transition(promotion.status, target, promotion.code)
    previous = promotion.status
    promotion.status = target
    promotion.status_reason = reason
    promotion.updated_at = utcnow()
    record_event(
        session,
        f"promotion.{target}",
        f"promotion/{promotion.id}",
        {
            "from": previous,
            "to": target,
            "reason": reason,
            "revision": promotion.revision,
            **(data or {}),
        },
        promotion_id=promotion.id,
        actor=actor,
    )
    session.flush()
    return promotion


def count_by_state(session: Session) -> dict[str, int]:
    """Promotions (one lifecycle workflow each) per state, every state named, for metrics."""
    counts = repository.count_by_status(session)
    return {state.value: counts.get(state.value, 0) for state in PromotionState}

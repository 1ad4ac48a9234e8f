"""Start a new revision of a draft or rejected promotion with changed terms. Never commits.

A rejected promotion's next revision opens as a draft (revision + 1), to be submitted
when ready; its rejected revision stays as it was frozen. A draft's revision was never
submitted, so revising it changes that open revision and keeps its number: bumping it
would race a submission in flight, whose workflow id is derived from the revision
number read before the workflow starts (`lifecycle.commands.submit_promotion`).
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError
from sqlalchemy.orm import Session

from promoflow.events.log import record_event
from promoflow.identity.schemas import BannerScope
from promoflow.kit.errors import Conflict, InvalidInput
from promoflow.promotions import repository, service
from promoflow.promotions.models import Promotion
from promoflow.promotions.schemas import MECHANIC_TERMS, PromotionCreate, PromotionRevise
from promoflow.promotions.states import PromotionState

REVISABLE = (PromotionState.DRAFT, PromotionState.REJECTED)
# The promotion's own columns a revision may change (scope is rows of its own).
TERMS = (
    "name",
    "description",
    "mechanic",
    *MECHANIC_TERMS,
    "start_date",
    "end_date",
    "channels",
    "display_support",
    "feature_support",
    "vendor_funding_per_unit",
)


def _current(session: Session, promotion: Promotion) -> dict[str, Any]:
    terms = {name: getattr(promotion, name) for name in TERMS}
    terms["items"] = [item.sku for _, item in repository.scope_items(session, promotion.id)]
    terms["locations"] = [loc.code for loc in repository.scope_locations(session, promotion.id)]
    terms["regions"] = []
    return terms


def _changed(
    before: dict[str, Any], after: PromotionCreate, location_ids: tuple[list[int], list[int]]
) -> list[str]:
    """The terms that differ, scope compared as sets (order and regions vs stores aside)."""
    now = after.model_dump()
    changed = [name for name in TERMS if now[name] != before[name]]
    if set(now["items"]) != set(before["items"]):
        changed.append("items")
    if set(location_ids[0]) != set(location_ids[1]):
        changed.append("locations")
    return sorted(changed)


def _merged(current: dict[str, Any], changes: PromotionRevise) -> PromotionCreate:
    given = changes.model_dump(exclude_unset=True)
    merged = dict(current)
    if "mechanic" in given and given["mechanic"] != current["mechanic"]:
        for name in MECHANIC_TERMS:
            merged[name] = None
    if "locations" in given or "regions" in given:
        merged["locations"], merged["regions"] = [], []
    merged.update({name: value for name, value in given.items() if value is not None})
    try:
        return PromotionCreate.model_validate(merged)
    except ValidationError as error:
        first = error.errors()[0]
        field = "".join(
            f"[{part}]" if isinstance(part, int) else f".{part}" for part in first["loc"]
        ).lstrip(".")
        field = field or "body"
        value = first.get("input") if first["loc"] else None
        raise InvalidInput(field, value, first["msg"].removeprefix("Value error, ")) from None


def revise_promotion(
    session: Session,
    promotion_id: int,
    changes: PromotionRevise,
    actor: str,
    role: str,
    *,
    banners: BannerScope | None = None,
) -> Promotion:
    """Apply `changes` as the promotion's next (or open) revision; refused whole if invalid."""
    # Locked: a submission or cancellation at the same instant waits, then sees the result.
    promotion = service.get_promotion(session, promotion_id, for_update=True)
    if promotion.status not in REVISABLE:
        raise Conflict(
            f"promotion {promotion.code} is {promotion.status}; only a draft or a rejected "
            "promotion can be revised (cancel it, or wait until it is rejected)",
            status=str(promotion.status),
        )
    service.ensure_may_cancel(promotion, actor, role, action="revise")
    before = _current(session, promotion)
    located_before = [loc.id for loc in repository.scope_locations(session, promotion.id)]
    data = _merged(before, changes)
    items = service.resolve_items(session, data)
    locations = service.resolve_locations(session, data, banners)
    for name in TERMS:
        setattr(promotion, name, getattr(data, name))
    categories = sorted({item.category for item in items.values()})
    promotion.category = categories[0] if len(categories) == 1 else "mixed"
    repository.clear_scope(session, promotion.id)
    service.add_scope(session, promotion, data, items, locations)
    changed = _changed(before, data, (located_before, locations))
    if promotion.status == PromotionState.REJECTED:
        promotion.revision += 1
        promotion.workflow_id = None
        promotion.timing = {}
        service.transition(
            session,
            promotion,
            PromotionState.DRAFT,
            f"revision {promotion.revision} opened by {actor}",
            actor,
        )
    record_event(
        session,
        "promotion.revised",
        f"promotion/{promotion.id}",
        {"code": promotion.code, "revision": promotion.revision, "changed": changed},
        promotion_id=promotion.id,
        actor=actor,
    )
    session.flush()
    return promotion

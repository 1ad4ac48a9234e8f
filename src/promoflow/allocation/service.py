"""A planner's decision on a recommendation, with the checks the lifecycle adds.

The recommendation store decides who may decide and records the decision; here we
refuse what the workflow could not apply: a recommendation of a promotion that no
longer waits for it, quantities that are not whole case packs, and an allocation
that ships more than its DC holds. Never commits.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Mapping, Sequence
from datetime import datetime

from sqlalchemy.orm import Session

from promoflow.allocation import repository as repo
from promoflow.kit.errors import Conflict, InvalidInput
from promoflow.promotions import service as promotions_service
from promoflow.promotions.states import PromotionState
from promoflow.recommendations import service as recommendations_service
from promoflow.recommendations.models import Recommendation, RecommendationLine

DECISIONS = ("accept", "edit", "reject")
# The workflow waits for a planner while the promotion is scheduled (before its gates).
WAITING_STATES = (PromotionState.SCHEDULED, PromotionState.ON_HOLD)


def decide(
    session: Session,
    recommendation_id: int,
    decision: str,
    actor: str,
    role: str,
    reason: str,
    changes: Mapping[int, float],
    now: datetime,
) -> Recommendation:
    """Record the decision (refused whole when any check fails)."""
    service = recommendations_service
    if decision == "accept":
        recommendation = service.accept(
            session, recommendation_id, actor=actor, role=role, reason=reason, now=now
        )
    elif decision == "edit":
        recommendation = service.edit(
            session,
            recommendation_id,
            actor=actor,
            role=role,
            changes=changes,
            reason=reason,
            now=now,
        )
    elif decision == "reject":
        recommendation = service.reject(
            session, recommendation_id, actor=actor, role=role, reason=reason, now=now
        )
    else:
        raise InvalidInput("decision", decision, f"must be one of {', '.join(DECISIONS)}")
    promotion = promotions_service.get_promotion(session, recommendation.promotion_id)
    if promotion.status not in WAITING_STATES or recommendation.revision != promotion.revision:
        raise Conflict(
            f"promotion {promotion.code} is {promotion.status} at revision {promotion.revision}; "
            f"{recommendation.kind} recommendation {recommendation.id} (revision "
            f"{recommendation.revision}) would never be applied",
            status=promotion.status,
        )
    if decision == "edit":
        _check_edit(session, recommendation, changes)
    return recommendation


def _check_edit(
    session: Session, recommendation: Recommendation, changes: Mapping[int, float]
) -> None:
    lines = {
        line.id: line
        for line in recommendations_service.recommendation_lines(session, recommendation.id)
    }
    for line_id, units in changes.items():
        item = repo.item(session, lines[line_id].item_id)
        pack = item.case_pack if item is not None else 1
        if abs(units / pack - round(units / pack)) > 1e-9:
            low, high = math.floor(units / pack) * pack, math.ceil(units / pack) * pack
            sku = item.sku if item is not None else lines[line_id].item_id
            raise InvalidInput(
                f"changes[{line_id}]",
                units,
                f"{sku} ships in cases of {pack}; use a multiple of {pack} such as {low} or {high}",
            )
    if recommendation.kind == "allocation":
        _check_dc_stock(session, list(lines.values()))


def _check_dc_stock(session: Session, lines: Sequence[RecommendationLine]) -> None:
    """An edited allocation may not ship more of an item than its DC can (on hand − allocated)."""
    shipping: dict[tuple[int, int], float] = defaultdict(float)
    for line in lines:
        shipping[(line.item_id, line.source_id)] += float(line.quantity_decided or 0.0)
    for (item_id, dc_id), units in sorted(shipping.items()):
        position = repo.position(session, item_id, dc_id)
        can_ship = max(0.0, position.on_hand - position.allocated) if position else 0.0
        if units > can_ship + 1e-9:
            item, dc = repo.item(session, item_id), repo.location(session, dc_id)
            raise InvalidInput(
                "changes",
                units,
                f"{item.sku if item else item_id} would ship {units:g} units from "
                f"{dc.code if dc else dc_id}, which can ship {can_ship:g}; lower the lines "
                "from that DC",
            )

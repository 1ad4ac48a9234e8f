"""Propose recommendations and decide them. Never commits; events ride the caller's transaction.

A recommendation is advisory until decided (DESIGN.md, "AI, governed"): the workflow
auto-applies it when the policy's threshold says so, otherwise a supply chain planner
(or operations admin) accepts, edits or rejects it. A newer proposal supersedes the
open one of the same kind.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping, Sequence
from datetime import datetime
from typing import Any

import polars as pl
from sqlalchemy.orm import Session

from promoflow.catalog.models import Item, Location
from promoflow.events.log import record_event
from promoflow.identity.schemas import BannerScope
from promoflow.kit.clock import utcnow
from promoflow.kit.errors import Conflict, Forbidden, InvalidInput, NotFound, OutOfScope
from promoflow.promotions import service as promotions_service
from promoflow.recommendations import repository
from promoflow.recommendations.models import Recommendation, RecommendationLine
from promoflow.recommendations.schemas import DECIDER_ROLES as DECIDER_ROLES  # re-exported
from promoflow.recommendations.schemas import (
    OPEN_STATUS,
    RECOMMENDATION_KINDS,
    RECOMMENDATION_STATUSES,
    RecommendationStatus,
)

SYSTEM = "system"  # who decides what no person decided (superseding, auto-applying)
LINE_KEYS = ("item_id", "location_id", "source_id", "quantity")
LineInput = Mapping[str, Any]


def propose(
    session: Session,
    *,
    promotion_id: int,
    revision: int,
    kind: str,
    model_version: str,
    inputs_hash: str,
    lines: pl.DataFrame | Sequence[LineInput],
    summary: Mapping[str, Any] | None = None,
    threshold: Mapping[str, Any] | None = None,
    now: datetime | None = None,
) -> Recommendation:
    """Store a proposal; the open one of the same kind (this or an earlier revision) is superseded.

    `lines` (a frame or mappings) has item_id, location_id, source_id, quantity and
    optionally expected_service_level (0..1) and details (a mapping).
    """
    _check_choice("kind", kind, RECOMMENDATION_KINDS)
    promotion = promotions_service.get_promotion(session, promotion_id)
    if not 1 <= revision <= promotion.revision:
        raise InvalidInput(
            "revision", revision, f"promotion {promotion_id} has revisions 1..{promotion.revision}"
        )
    for field, value in (("model_version", model_version), ("inputs_hash", inputs_hash)):
        if not value.strip() or len(value) > 64:
            raise InvalidInput(field, value, "give the 1-64 character value the planner recorded")
    rows = _checked_lines(session, lines)
    moment = now or utcnow()
    stale = repository.open_up_to(session, promotion_id, kind, revision)
    for old in stale:
        old.status = RecommendationStatus.SUPERSEDED
        old.decided_by = SYSTEM
        old.decided_at = moment
    # The superseded rows leave the one-open-per-revision index before the new one enters.
    session.flush()
    recommendation = Recommendation(
        promotion_id=promotion_id,
        revision=revision,
        kind=kind,
        status=OPEN_STATUS,
        model_version=model_version,
        inputs_hash=inputs_hash,
        summary=dict(summary or {}),
        threshold=dict(threshold or {}),
        created_at=moment,
    )
    session.add(recommendation)
    session.flush()
    repository.insert_lines(
        session, [{**row, "recommendation_id": recommendation.id} for row in rows]
    )
    for old in stale:
        old.superseded_by = recommendation.id
        old.reason = f"superseded by recommendation {recommendation.id}"
        _record(session, old, RecommendationStatus.SUPERSEDED, SYSTEM)
    data = _event_data(session, recommendation)
    data["threshold"] = recommendation.threshold
    data["summary"] = recommendation.summary
    record_event(
        session,
        "recommendation.proposed",
        _subject(recommendation),
        data,
        promotion_id=promotion_id,
    )
    session.flush()
    return recommendation


def auto_apply(
    session: Session,
    recommendation_id: int,
    *,
    reason: str = "within the policy's auto-apply threshold",
    actor: str = SYSTEM,
    now: datetime | None = None,
) -> Recommendation:
    """Apply an open recommendation as proposed because the policy allows it without review."""
    recommendation = _open(session, recommendation_id)
    repository.decide_as_proposed(session, recommendation.id)
    return _decide(
        session, recommendation, RecommendationStatus.AUTO_APPLIED, actor, None, reason, now
    )


def accept(
    session: Session,
    recommendation_id: int,
    *,
    actor: str,
    role: str,
    reason: str = "",
    now: datetime | None = None,
) -> Recommendation:
    """A planner accepts an open recommendation as proposed."""
    recommendation = _decidable(session, recommendation_id, role)
    repository.decide_as_proposed(session, recommendation.id)
    return _decide(
        session, recommendation, RecommendationStatus.ACCEPTED, actor, role, reason.strip(), now
    )


def edit(
    session: Session,
    recommendation_id: int,
    *,
    actor: str,
    role: str,
    changes: Mapping[int, float],
    reason: str,
    now: datetime | None = None,
) -> Recommendation:
    """A planner changes some lines' quantities (line id -> units) and accepts the rest."""
    recommendation = _decidable(session, recommendation_id, role)
    if not reason.strip():
        raise InvalidInput("reason", reason, "say why the quantities changed")
    if not changes:
        raise InvalidInput("changes", {}, "name at least one line id and its new quantity")
    for line_id, quantity in changes.items():
        if not isinstance(line_id, int) or isinstance(line_id, bool):
            raise InvalidInput("changes", line_id, "line ids must be integers")
        if not _is_units(quantity):
            raise InvalidInput(f"changes[{line_id}]", quantity, "must be a number of units >= 0")
    known = repository.line_ids_among(session, recommendation.id, changes)
    unknown = sorted(set(changes) - known)
    if unknown:
        raise InvalidInput(
            "changes",
            unknown,
            f"line ids {', '.join(map(str, unknown))} are not lines of recommendation "
            f"{recommendation.id}; read its lines and use their ids",
        )
    repository.decide_as_proposed(session, recommendation.id)
    repository.set_decided(session, {key: float(value) for key, value in changes.items()})
    return _decide(
        session, recommendation, RecommendationStatus.EDITED, actor, role, reason.strip(), now
    )


def reject(
    session: Session,
    recommendation_id: int,
    *,
    actor: str,
    role: str,
    reason: str,
    now: datetime | None = None,
) -> Recommendation:
    """A planner rejects an open recommendation; nothing of it is applied."""
    recommendation = _decidable(session, recommendation_id, role)
    if not reason.strip():
        raise InvalidInput("reason", reason, "say why the recommendation is rejected")
    return _decide(
        session, recommendation, RecommendationStatus.REJECTED, actor, role, reason.strip(), now
    )


def get_recommendation(
    session: Session,
    recommendation_id: int,
    *,
    for_update: bool = False,
    banners: BannerScope | None = None,
) -> Recommendation:
    """One recommendation by id, or NotFound; `for_update` holds its row lock.

    With `banners`, one of a promotion outside them is answered as a missing one.
    """
    recommendation = repository.get(session, recommendation_id, for_update=for_update)
    missing = f"recommendation {recommendation_id} does not exist"
    if recommendation is None:
        raise NotFound(missing, recommendation_id=recommendation_id)
    if banners is not None and not promotions_service.within_banners(
        session, recommendation.promotion_id, banners
    ):
        raise OutOfScope(missing, recommendation_id=recommendation_id)
    return recommendation


def recommendation_lines(session: Session, recommendation_id: int) -> Sequence[RecommendationLine]:
    """A recommendation's lines (NotFound for an unknown recommendation)."""
    return repository.lines(session, get_recommendation(session, recommendation_id).id)


def lines_for(
    session: Session, recommendation_ids: Collection[int]
) -> dict[int, list[RecommendationLine]]:
    """The lines of several recommendations at once, by recommendation id."""
    return repository.lines_for(session, recommendation_ids)


def list_recommendations(
    session: Session,
    promotion_id: int,
    *,
    revision: int | None = None,
    kind: str | None = None,
    status: str | None = None,
) -> Sequence[Recommendation]:
    """A promotion's recommendations, newest first, filtered by revision, kind and status."""
    if kind is not None:
        _check_choice("kind", kind, RECOMMENDATION_KINDS)
    if status is not None:
        _check_choice("status", status, RECOMMENDATION_STATUSES)
    return repository.list_for_promotion(
        session, promotion_id, revision=revision, kind=kind, status=status
    )


def open_recommendation(
    session: Session, promotion_id: int, revision: int, kind: str
) -> Recommendation | None:
    """The proposal of `kind` waiting for a decision at this revision, if any."""
    found = repository.list_for_promotion(
        session, promotion_id, revision=revision, kind=kind, status=OPEN_STATUS
    )
    return found[0] if found else None


def _open(session: Session, recommendation_id: int) -> Recommendation:
    # Locked before the status is read: of two decisions at once, the second is refused.
    recommendation = get_recommendation(session, recommendation_id, for_update=True)
    if recommendation.status != OPEN_STATUS:
        decided = (
            f" by {recommendation.decided_by} at {recommendation.decided_at:%Y-%m-%d %H:%M} UTC"
            if recommendation.decided_at is not None
            else ""
        )
        raise Conflict(
            f"recommendation {recommendation.id} is already {recommendation.status}{decided}; "
            "only a proposed recommendation can be decided",
            status=recommendation.status,
        )
    return recommendation


def _decidable(session: Session, recommendation_id: int, role: str) -> Recommendation:
    if role not in DECIDER_ROLES:
        raise Forbidden(
            f"role {role} may not decide recommendations; {' or '.join(DECIDER_ROLES)} may",
            role=role,
        )
    return _open(session, recommendation_id)


def _decide(
    session: Session,
    recommendation: Recommendation,
    status: str,
    actor: str,
    role: str | None,
    reason: str,
    now: datetime | None,
) -> Recommendation:
    recommendation.status = status
    recommendation.decided_by = actor
    recommendation.decided_role = role
    recommendation.decided_at = now or utcnow()
    recommendation.reason = reason
    session.flush()
    _record(session, recommendation, status, actor)
    return recommendation


def _record(session: Session, recommendation: Recommendation, status: str, actor: str) -> None:
    data = _event_data(session, recommendation)
    record_event(
        session,
        f"recommendation.{status}",
        _subject(recommendation),
        data,
        promotion_id=recommendation.promotion_id,
        actor=actor,
    )


def _event_data(session: Session, recommendation: Recommendation) -> dict[str, Any]:
    session.flush()
    count, proposed, decided = repository.line_totals(session, recommendation.id)
    return {
        "recommendation_id": recommendation.id,
        "kind": recommendation.kind,
        "revision": recommendation.revision,
        "status": recommendation.status,
        "model_version": recommendation.model_version,
        "inputs_hash": recommendation.inputs_hash,
        "lines": count,
        "units_proposed": proposed,
        "units_decided": decided,
        "decided_role": recommendation.decided_role,
        "reason": recommendation.reason,
        "superseded_by": recommendation.superseded_by,
    }


def _subject(recommendation: Recommendation) -> str:
    return f"recommendation/{recommendation.id}"


def _check_choice(field: str, value: str, allowed: Sequence[str]) -> None:
    if value not in allowed:
        raise InvalidInput(field, value, f"must be one of {', '.join(allowed)}")


def _is_units(value: Any) -> bool:
    return (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and math.isfinite(value)
        and value >= 0
    )


def _checked_lines(
    session: Session, lines: pl.DataFrame | Sequence[LineInput]
) -> list[dict[str, Any]]:
    """Validated line rows ready to insert; refuses the whole set on the first problem."""
    given = lines.to_dicts() if isinstance(lines, pl.DataFrame) else [dict(row) for row in lines]
    rows: list[dict[str, Any]] = []
    routes: set[tuple[int, int, int]] = set()
    for index, line in enumerate(given):
        rows.append(_checked_line(index, line))
        route = (line["item_id"], line["location_id"], line["source_id"])
        if route in routes:
            raise InvalidInput(
                f"lines[{index}]",
                dict(zip(LINE_KEYS[:3], route, strict=True)),
                "repeats an item, location and source; sum the quantities into one line",
            )
        routes.add(route)
    for field, model in (("item_id", Item), ("location_id", Location)):
        unknown = repository.missing_ids(session, model, {row[field] for row in rows})
        if unknown:
            raise InvalidInput(f"lines.{field}", unknown[:20], f"no such {model.__tablename__}")
    return rows


def _checked_line(index: int, line: Mapping[str, Any]) -> dict[str, Any]:
    missing = [key for key in LINE_KEYS if line.get(key) is None]
    if missing:
        raise InvalidInput(f"lines[{index}]", dict(line), f"missing {', '.join(missing)}")
    for key in LINE_KEYS[:3]:
        if not isinstance(line[key], int) or isinstance(line[key], bool):
            raise InvalidInput(f"lines[{index}].{key}", line[key], "must be an integer id")
    if not _is_units(line["quantity"]):
        raise InvalidInput(
            f"lines[{index}].quantity", line["quantity"], "must be a number of units >= 0"
        )
    level = line.get("expected_service_level")
    if level is not None and not (_is_units(level) and level <= 1.0):
        raise InvalidInput(
            f"lines[{index}].expected_service_level", level, "must be between 0 and 1"
        )
    details = line.get("details") or {}
    if not isinstance(details, Mapping):
        raise InvalidInput(f"lines[{index}].details", details, "must be a mapping")
    return {
        "item_id": line["item_id"],
        "location_id": line["location_id"],
        "source_id": line["source_id"],
        "quantity_proposed": float(line["quantity"]),
        "quantity_decided": None,
        "expected_service_level": float(level) if level is not None else None,
        "details": dict(details),
    }

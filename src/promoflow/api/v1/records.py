"""What the lifecycle recorded for one promotion: findings, gates, approvals, events."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Response

from promoflow.api.conditional import IfMatch, change_responses
from promoflow.api.deps import PromotionId, PromotionRef, ReadSessions, SessionDep
from promoflow.api.pagination import Pagination
from promoflow.api.permissions import GateWaivingActor, Reader
from promoflow.api.problems import problem_responses
from promoflow.api.schemas import (
    ApprovalTaskOut,
    CloudEventOut,
    FindingOut,
    GateResultOut,
    GateWaiverOut,
    Page,
    PublicationOut,
    ReasonBody,
)
from promoflow.api.v1.promotions import tag_promotion
from promoflow.approvals import service as approvals_service
from promoflow.gates import service as gates_service
from promoflow.kit.keyset import SortKey
from promoflow.lifecycle import commands
from promoflow.promotions import service as promotions_service
from promoflow.publications import service as publications_service

router = APIRouter(prefix="/promotions/{ref}", tags=["promotions"])


# These small per-promotion lists come whole from their services, ordered by id.
def _by_id(row: Any) -> SortKey:
    return (int(row.id),)


GateName = Annotated[str, Path(min_length=1, max_length=48, pattern=r"^[a-z0-9_]+$")]


@router.get("/findings", response_model=Page[FindingOut], responses=problem_responses(404))
def list_findings(
    session: SessionDep, _actor: Reader, ref: PromotionRef, page: Pagination
) -> Page[FindingOut]:
    """Validation findings for the promotion's current revision."""
    promotion = promotions_service.find_promotion(session, ref)
    rows = promotions_service.findings(session, promotion)
    return page.of(FindingOut, page.slice(rows, _by_id), len(rows), _by_id)


@router.get("/gates", response_model=Page[GateResultOut], responses=problem_responses(404))
def list_gates(
    session: SessionDep, _actor: Reader, ref: PromotionRef, page: Pagination
) -> Page[GateResultOut]:
    """The latest result of every launch gate for the current revision, with evidence."""
    promotion = promotions_service.find_promotion(session, ref)
    rows = gates_service.latest_gate_results(session, promotion.id, promotion.revision)
    return page.of(GateResultOut, page.slice(rows, _by_id), len(rows), _by_id)


@router.post(
    "/gates/{gate}/waive",
    response_model=GateWaiverOut,
    responses=change_responses(200, 403, 404, 409),
)
def waive_gate(
    actor: GateWaivingActor,
    promotion_id: PromotionId,
    gate: GateName,
    body: ReasonBody,
    if_match: IfMatch,
    reads: ReadSessions,
    response: Response,
) -> GateWaiverOut:
    """Waive one gate for the current revision; the gates policy says which roles may.
    If-Match (optional) is the promotion's ETag; the answer carries its current one."""
    waiver = commands.waive_gate(
        promotion_id, gate, actor.name, actor.role, body.reason, if_match=if_match
    )
    tag_promotion(reads, promotion_id, response)
    return GateWaiverOut.model_validate(waiver)


@router.get("/approvals", response_model=Page[ApprovalTaskOut], responses=problem_responses(404))
def list_promotion_approvals(
    session: SessionDep, _actor: Reader, ref: PromotionRef, page: Pagination
) -> Page[ApprovalTaskOut]:
    """Approval tasks of the current revision, pending and decided."""
    promotion = promotions_service.find_promotion(session, ref)
    rows = approvals_service.tasks_for_revision(session, promotion.id, promotion.revision)
    return page.of(ApprovalTaskOut, page.slice(rows, _by_id), len(rows), _by_id)


@router.get("/events", response_model=Page[CloudEventOut], responses=problem_responses(404))
def list_events(
    session: SessionDep, _actor: Reader, ref: PromotionRef, page: Pagination
) -> Page[CloudEventOut]:
    """The promotion's event log, every revision, as CloudEvents in the order written."""
    promotion = promotions_service.find_promotion(session, ref)
    rows, total = promotions_service.event_log_page(
        session, promotion.id, page.fetch, after=page.after_id()
    )
    shown, next_cursor = page.cut(rows, key=lambda row: (row.sequence,))
    events = [CloudEventOut.model_validate(row.as_cloudevent()) for row in shown]
    return Page[CloudEventOut](items=events, total=total, limit=page.limit, next_cursor=next_cursor)


@router.get("/publications", response_model=Page[PublicationOut], responses=problem_responses(404))
def list_publications(
    session: SessionDep, _actor: Reader, ref: PromotionRef, page: Pagination
) -> Page[PublicationOut]:
    """Publications per channel for the current revision."""
    promotion = promotions_service.find_promotion(session, ref)
    rows = publications_service.publications(session, promotion.id, promotion.revision)
    return page.of(PublicationOut, page.slice(rows, _by_id), len(rows), _by_id)

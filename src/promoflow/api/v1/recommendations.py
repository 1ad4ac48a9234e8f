"""Allocation and replenishment recommendations: read one, and a planner's decision on it.

The caller's role comes from their API key; the recommendation store decides who may
decide (supply_chain_planner or operations_admin) and the lifecycle refuses what it
could not apply. Every decision wakes the promotion's workflow, which applies it.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from promoflow.api.conditional import IfMatch, IfNoneMatch, change_responses, read_responses, tagged
from promoflow.api.deps import IdPath, ReadSessions, SessionDep
from promoflow.api.permissions import Caller, Reader
from promoflow.api.schemas import Reason
from promoflow.api.v1.governance import RecommendationLineOut, RecommendationOut
from promoflow.kit.bounds import MAX_UNITS, Text
from promoflow.kit.preconditions import entity_tag
from promoflow.lifecycle import commands
from promoflow.recommendations import service as recommendations_service

router = APIRouter(prefix="/recommendations", tags=["recommendations"])

# The route lets every role through; the recommendation store names who may decide.
# access.yaml: `recommendations.decide` (supply_chain_planner, operations_admin).
Planner = Caller
RecommendationId = IdPath
# Units of one line: whole case packs, checked by the recommendation store.
Units = Annotated[float, Field(strict=True, ge=0, le=MAX_UNITS, allow_inf_nan=False)]
DECIDED = change_responses(200, 403, 404, 409)


class AcceptBody(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    reason: Annotated[str, Text(2000, lines=True)] = ""


class RejectBody(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    reason: Reason = Field(description="why, for the audit trail")


class EditBody(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    # JSON keys are text: the line id is written in digits (no sign, no leading zero).
    changes: dict[Annotated[str, Field(pattern=r"^[1-9][0-9]{0,17}$")], Units] = Field(
        min_length=1,
        max_length=10_000,
        description="line id -> units (whole case packs); other lines as proposed",
        json_schema_extra={"additionalProperties": False},
    )
    reason: Reason = Field(description="why the quantities changed")


def _read(session: Session, recommendation_id: int) -> tuple[RecommendationOut, str]:
    # Its lines change only with a decision, which changes the recommendation's row too.
    found = recommendations_service.get_recommendation(session, recommendation_id)
    lines = recommendations_service.recommendation_lines(session, recommendation_id)
    out = RecommendationOut.model_validate(found).model_copy(
        update={"lines": [RecommendationLineOut.model_validate(line) for line in lines]}
    )
    return out, entity_tag(found)


def _out(reads: ReadSessions, recommendation_id: int, response: Response) -> RecommendationOut:
    """The decided recommendation with its ETag, read after the command committed."""
    with reads() as session:
        out, tag = _read(session, recommendation_id)
    tagged(response, tag)
    return out


@router.get("/{recommendation_id}", response_model=RecommendationOut, responses=read_responses(404))
def get_recommendation(
    session: SessionDep,
    _actor: Reader,
    recommendation_id: RecommendationId,
    held: IfNoneMatch,
    response: Response,
) -> RecommendationOut | Response:
    """One recommendation with its lines (their ids are what an edit names), and its ETag."""
    out, tag = _read(session, recommendation_id)
    return tagged(response, tag, held) or out


@router.post("/{recommendation_id}/accept", response_model=RecommendationOut, responses=DECIDED)
def accept(
    actor: Planner,
    recommendation_id: RecommendationId,
    reads: ReadSessions,
    if_match: IfMatch,
    response: Response,
    body: AcceptBody | None = None,
) -> RecommendationOut:
    """Accept the recommendation as proposed (If-Match optional)."""
    reason = body.reason if body is not None else ""
    commands.decide_recommendation(
        recommendation_id, "accept", actor.name, actor.role, reason=reason, if_match=if_match
    )
    return _out(reads, recommendation_id, response)


@router.post("/{recommendation_id}/edit", response_model=RecommendationOut, responses=DECIDED)
def edit(
    actor: Planner,
    recommendation_id: RecommendationId,
    reads: ReadSessions,
    body: EditBody,
    if_match: IfMatch,
    response: Response,
) -> RecommendationOut:
    """Change some lines' quantities and accept the rest as proposed.

    Needs If-Match (428 without it): the recommendation's ETag as read, so that
    quantities are never decided on lines that changed since (412 then)."""
    commands.decide_recommendation(
        recommendation_id,
        "edit",
        actor.name,
        actor.role,
        reason=body.reason,
        changes={int(line_id): units for line_id, units in body.changes.items()},
        if_match=if_match,
    )
    return _out(reads, recommendation_id, response)


@router.post("/{recommendation_id}/reject", response_model=RecommendationOut, responses=DECIDED)
def reject(
    actor: Planner,
    recommendation_id: RecommendationId,
    reads: ReadSessions,
    body: RejectBody,
    if_match: IfMatch,
    response: Response,
) -> RecommendationOut:
    """Reject the recommendation: nothing of it is applied, the launch goes on without it
    (If-Match optional)."""
    commands.decide_recommendation(
        recommendation_id, "reject", actor.name, actor.role, reason=body.reason, if_match=if_match
    )
    return _out(reads, recommendation_id, response)

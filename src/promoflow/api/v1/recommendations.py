"""Allocation and replenishment recommendations: read one, and a planner's decision on it.

The caller's role comes from their API key; the recommendation store decides who may
decide (supply_chain_planner or operations_admin) and the lifecycle refuses what it
could not apply. Every decision wakes the promotion's workflow, which applies it.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from promoflow.api.deps import IdPath, ReadSessions, SessionDep
from promoflow.api.permissions import Caller, Reader
from promoflow.api.problems import problem_responses
from promoflow.api.schemas import Reason
from promoflow.api.v1.governance import RecommendationLineOut, RecommendationOut
from promoflow.kit.bounds import MAX_UNITS, Text
from promoflow.lifecycle import commands
from promoflow.recommendations import service as recommendations_service

router = APIRouter(prefix="/recommendations", tags=["recommendations"])

# The route lets every role through; the recommendation store names who may decide.
# access.yaml: `recommendations.decide` (supply_chain_planner, operations_admin).
Planner = Caller
RecommendationId = IdPath
# Units of one line: whole case packs, checked by the recommendation store.
Units = Annotated[float, Field(strict=True, ge=0, le=MAX_UNITS, allow_inf_nan=False)]
DECIDED = problem_responses(403, 404, 409)


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


def _read(session: Session, recommendation_id: int) -> RecommendationOut:
    found = recommendations_service.get_recommendation(session, recommendation_id)
    lines = recommendations_service.recommendation_lines(session, recommendation_id)
    return RecommendationOut.model_validate(found).model_copy(
        update={"lines": [RecommendationLineOut.model_validate(line) for line in lines]}
    )


def _out(reads: ReadSessions, recommendation_id: int) -> RecommendationOut:
    """The decided recommendation, read after the command committed."""
    with reads() as session:
        return _read(session, recommendation_id)


@router.get(
    "/{recommendation_id}", response_model=RecommendationOut, responses=problem_responses(404)
)
def get_recommendation(
    session: SessionDep, _actor: Reader, recommendation_id: RecommendationId
) -> RecommendationOut:
    """One recommendation with its lines (their ids are what an edit names)."""
    return _read(session, recommendation_id)


@router.post("/{recommendation_id}/accept", response_model=RecommendationOut, responses=DECIDED)
def accept(
    actor: Planner,
    recommendation_id: RecommendationId,
    reads: ReadSessions,
    body: AcceptBody | None = None,
) -> RecommendationOut:
    """Accept the recommendation as proposed."""
    reason = body.reason if body is not None else ""
    commands.decide_recommendation(
        recommendation_id, "accept", actor.name, actor.role, reason=reason
    )
    return _out(reads, recommendation_id)


@router.post("/{recommendation_id}/edit", response_model=RecommendationOut, responses=DECIDED)
def edit(
    actor: Planner, recommendation_id: RecommendationId, reads: ReadSessions, body: EditBody
) -> RecommendationOut:
    """Change some lines' quantities and accept the rest as proposed."""
    commands.decide_recommendation(
        recommendation_id,
        "edit",
        actor.name,
        actor.role,
        reason=body.reason,
        changes={int(line_id): units for line_id, units in body.changes.items()},
    )
    return _out(reads, recommendation_id)


@router.post("/{recommendation_id}/reject", response_model=RecommendationOut, responses=DECIDED)
def reject(
    actor: Planner, recommendation_id: RecommendationId, reads: ReadSessions, body: RejectBody
) -> RecommendationOut:
    """Reject the recommendation: nothing of it is applied, the launch goes on without it."""
    commands.decide_recommendation(
        recommendation_id, "reject", actor.name, actor.role, reason=body.reason
    )
    return _out(reads, recommendation_id)

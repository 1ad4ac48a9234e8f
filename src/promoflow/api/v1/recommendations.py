"""Allocation and replenishment recommendations: read one, and a planner's decision on it.

The caller's role comes from their API key; the recommendation store decides who may
decide (supply_chain_planner or operations_admin) and the lifecycle refuses what it
could not apply. Every decision wakes the promotion's workflow, which applies it.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from promoflow.api.auth import Actor
from promoflow.api.deps import SessionDep
from promoflow.api.permissions import EVERY_ROLE, Permission, Reader, authorized
from promoflow.api.v1.governance import RecommendationLineOut, RecommendationOut
from promoflow.lifecycle import commands
from promoflow.recommendations import service as recommendations_service
from promoflow.runtime import get_runtime

router = APIRouter(prefix="/recommendations", tags=["recommendations"])

# The route lets every role through; the recommendation store names who may decide.
DECIDE_RECOMMENDATION = Permission("decide recommendations", EVERY_ROLE)
Planner = Annotated[Actor, Depends(authorized(DECIDE_RECOMMENDATION))]
RecommendationId = Annotated[int, Path(ge=1)]


class AcceptBody(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    reason: str = Field(default="", max_length=2000)


class RejectBody(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    reason: str = Field(min_length=1, max_length=2000, description="why, for the audit trail")


class EditBody(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    changes: dict[int, float] = Field(
        min_length=1, description="line id -> units (whole case packs); other lines as proposed"
    )
    reason: str = Field(min_length=1, max_length=2000, description="why the quantities changed")


def _read(session: Session, recommendation_id: int) -> RecommendationOut:
    found = recommendations_service.get_recommendation(session, recommendation_id)
    lines = recommendations_service.recommendation_lines(session, recommendation_id)
    return RecommendationOut.model_validate(found).model_copy(
        update={"lines": [RecommendationLineOut.model_validate(line) for line in lines]}
    )


def _out(recommendation_id: int) -> RecommendationOut:
    """The decided recommendation, read after the command committed."""
    with get_runtime().sessions() as session:
        return _read(session, recommendation_id)


@router.get("/{recommendation_id}", response_model=RecommendationOut)
def get_recommendation(
    session: SessionDep, _actor: Reader, recommendation_id: RecommendationId
) -> RecommendationOut:
    """One recommendation with its lines (their ids are what an edit names)."""
    return _read(session, recommendation_id)


@router.post("/{recommendation_id}/accept", response_model=RecommendationOut)
def accept(
    actor: Planner, recommendation_id: RecommendationId, body: AcceptBody | None = None
) -> RecommendationOut:
    """Accept the recommendation as proposed."""
    reason = body.reason if body is not None else ""
    commands.decide_recommendation(
        recommendation_id, "accept", actor.name, actor.role, reason=reason
    )
    return _out(recommendation_id)


@router.post("/{recommendation_id}/edit", response_model=RecommendationOut)
def edit(actor: Planner, recommendation_id: RecommendationId, body: EditBody) -> RecommendationOut:
    """Change some lines' quantities and accept the rest as proposed."""
    commands.decide_recommendation(
        recommendation_id,
        "edit",
        actor.name,
        actor.role,
        reason=body.reason,
        changes=body.changes,
    )
    return _out(recommendation_id)


@router.post("/{recommendation_id}/reject", response_model=RecommendationOut)
def reject(
    actor: Planner, recommendation_id: RecommendationId, body: RejectBody
) -> RecommendationOut:
    """Reject the recommendation: nothing of it is applied, the launch goes on without it."""
    commands.decide_recommendation(
        recommendation_id, "reject", actor.name, actor.role, reason=body.reason
    )
    return _out(recommendation_id)

"""Approval tasks: the caller's queue and their decisions."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from promoflow.api.deps import IdPath, OneOf, Pagination, SessionDep
from promoflow.api.permissions import Approver, Reader
from promoflow.api.problems import problem_responses
from promoflow.api.schemas import ApprovalTaskOut, DecisionBody, Page, page_of
from promoflow.approvals import service as approvals_service
from promoflow.kit.roles import ROLES
from promoflow.lifecycle import commands

router = APIRouter(prefix="/approvals", tags=["approvals"])


@router.get("", response_model=Page[ApprovalTaskOut])
def list_pending(
    session: SessionDep,
    actor: Reader,
    page: Pagination,
    role: Annotated[
        str | None, Query(description="Assigned role; default the caller's"), OneOf(ROLES)
    ] = None,
) -> Page[ApprovalTaskOut]:
    """Pending approval tasks assigned to a role (the caller's unless `role` is given)."""
    rows = approvals_service.pending_tasks_for(session, role=role or actor.role)
    items, total = page.slice(rows)
    return page_of(ApprovalTaskOut, items, total, page.limit, page.offset)


@router.post(
    "/{task_id}/decision",
    response_model=ApprovalTaskOut,
    responses=problem_responses(403, 404, 409),
)
def decide(
    actor: Approver,
    task_id: IdPath,
    body: DecisionBody,
) -> ApprovalTaskOut:
    """Approve or reject a task; only its assigned role may, and never the requester."""
    task = commands.decide_approval(task_id, actor.name, actor.role, body.decision, body.comment)
    return ApprovalTaskOut.model_validate(task)

"""Approval tasks: the caller's queue and their decisions."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query, Response

from promoflow.api.conditional import IfMatch, change_responses, tagged
from promoflow.api.deps import Currency, IdPath, OneOf, QueueRulesDep, SessionDep
from promoflow.api.pagination import Pagination
from promoflow.api.permissions import Approver, Reader
from promoflow.api.schemas import ApprovalTaskOut, DecisionBody, Page
from promoflow.approvals import queue
from promoflow.approvals.schemas import ApprovalQueueItem
from promoflow.kit.clock import utcnow
from promoflow.kit.preconditions import entity_tag
from promoflow.kit.roles import ROLES
from promoflow.lifecycle import commands

router = APIRouter(prefix="/approvals", tags=["approvals"])


@router.get("", response_model=Page[ApprovalQueueItem])
def list_pending(
    session: SessionDep,
    actor: Reader,
    page: Pagination,
    rules: QueueRulesDep,
    currency: Currency,
    role: Annotated[
        str | None, Query(description="Assigned role; default the caller's"), OneOf(ROLES)
    ] = None,
) -> Page[ApprovalQueueItem]:
    """Pending approval tasks of a role (the caller's unless `role` is given) on promotions
    of the caller's banners, soonest due first, each with what its approver needs: the
    promotion's code, name, mechanic and depth, the forecast uplift, the margin impact the
    approval matrix judged, the stock risk (will stock cover the forecast's P90, by the
    inventory coverage gate's test), the due time and the SLA state (on time, due soon
    past the role's reminder point in the approval policy, overdue)."""
    key = page.position(datetime, int)
    rows, total = queue.queue_page(
        session,
        role or actor.role,
        page.fetch,
        0,
        now=utcnow(),
        rules=rules,
        currency=currency,
        banners=actor.banners,
        after=None if key is None else (key[0], int(key[1])),
    )
    return page.of(ApprovalQueueItem, rows, total, key=lambda row: (row.due_at, row.id))


@router.post(
    "/{task_id}/decision",
    response_model=ApprovalTaskOut,
    responses=change_responses(200, 403, 404, 409),
)
def decide(
    actor: Approver,
    task_id: IdPath,
    body: DecisionBody,
    if_match: IfMatch,
    response: Response,
) -> ApprovalTaskOut:
    """Approve or reject a task; only its assigned role may, and never the requester.

    If-Match is optional (a second decision is a 409 anyway); the answer carries the
    decided task's ETag."""
    task = commands.decide_approval(
        task_id, actor.name, actor.role, body.decision, body.comment, if_match=if_match
    )
    tagged(response, entity_tag(task))
    return ApprovalTaskOut.model_validate(task)

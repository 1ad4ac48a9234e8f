"""Approval inbox: a role's pending tasks with the context to decide, and bulk approval.

Mirrors GET /approvals (the queue, soonest due first, cursor pages) and
POST /approvals/{task_id}/decision (through lifecycle.commands.decide_approval, so
the audit trail and the workflow's wake-up are the API's). A bulk approval shows
first what each approval would do and which tasks the person may not approve (and
why), then decides them one by one and reports each outcome.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from promoflow.api import deps
from promoflow.api.pagination import decode_cursor, encode_cursor
from promoflow.approvals import queue
from promoflow.approvals import service as approvals_service
from promoflow.approvals.schemas import DECISIONS, ApprovalQueueItem, Decision
from promoflow.identity.schemas import Principal
from promoflow.identity.sessions import SignedIn
from promoflow.kit.clock import utcnow
from promoflow.kit.db import reading
from promoflow.kit.errors import Forbidden, InvalidInput, PromoflowError
from promoflow.kit.roles import ROLES, Role
from promoflow.lifecycle import commands
from promoflow.promotions import service as promotions_service
from promoflow.web.access import ApprovalsReader, Approver, allowed
from promoflow.web.templating import render

router = APIRouter()

DECIDE = "POST /approvals/{task_id}/decision"
# Who may look at another role's queue from the console (everyone else sees their own).
QUEUE_WATCHERS = frozenset({Role.OPERATIONS_ADMIN, Role.AUDITOR})
PAGE = 50
MAX_LIMIT = 200
MAX_BULK = 100
MAX_COMMENT = 2000


def _role_asked(principal: Principal, role: str | None) -> str:
    """The queue to show: the person's own role's, or (ops admin, auditor) the one asked."""
    if not role or role == principal.role:
        return principal.role.value
    if role not in ROLES:
        raise InvalidInput("role", role, f"unknown role; known: {', '.join(ROLES)}")
    if principal.role not in QUEUE_WATCHERS:
        raise Forbidden(
            f"role '{principal.role}' sees its own approval queue; only "
            f"{' and '.join(sorted(QUEUE_WATCHERS))} may pick another role's ({role})"
        )
    return role


def _limit(raw: str | None) -> int:
    if raw is None or raw == "":
        return PAGE
    if not (raw.isascii() and raw.isdigit()) or not 1 <= int(raw) <= MAX_LIMIT:
        raise InvalidInput("limit", raw, f"must be a whole number from 1 to {MAX_LIMIT}")
    return int(raw)


def _binding(role: str) -> str:
    return f"console:/approvals?role={role}"


def _queue(
    request: Request, user: SignedIn, role: str, limit: int, cursor: str | None
) -> tuple[list[ApprovalQueueItem], int, str | None]:
    """One page of the role's queue, its total, and the next page's cursor."""
    after = None
    if cursor:
        key = decode_cursor(cursor, _binding(role))
        if len(key) != 2 or not isinstance(key[0], datetime) or not isinstance(key[1], int):
            raise InvalidInput("cursor", cursor, "is not a cursor this list gave out")
        after = (key[0], key[1])
    with reading(deps.read_sessions()) as session:
        rows, total = queue.queue_page(
            session,
            role,
            limit + 1,
            0,
            now=utcnow(),
            rules=deps.approval_queue_rules(),
            currency=deps.currency(request),
            banners=user.principal.banners,
            after=after,
        )
    shown = rows[:limit]
    more = len(rows) > limit and shown
    next_cursor = encode_cursor((shown[-1].due_at, shown[-1].id), _binding(role)) if more else None
    return shown, total, next_cursor


def _inbox_values(
    request: Request, user: SignedIn, role: str | None, limit: str | None, cursor: str | None
) -> dict[str, Any]:
    shown_role = _role_asked(user.principal, role)
    size = _limit(limit)
    rows, total, next_cursor = _queue(request, user, shown_role, size, cursor)
    query = {"role": shown_role, **({"limit": str(size)} if limit else {})}
    may_decide = allowed(request, user.principal, DECIDE)
    return {
        "user": user,
        "section": "Approvals",
        "rows": rows,
        "total": total,
        "role": shown_role,
        "roles": ROLES,
        "may_pick_role": user.principal.role in QUEUE_WATCHERS,
        "may_decide": may_decide,
        "my_role": user.principal.role.value,
        "query": urlencode({**query, **({"cursor": cursor} if cursor else {})}),
        "next_query": urlencode({**query, "cursor": next_cursor}) if next_cursor else None,
        "first_query": urlencode(query) if cursor else None,
    }


@router.get("/approvals")
def inbox(
    request: Request,
    user: ApprovalsReader,
    role: str | None = None,
    limit: str | None = None,
    cursor: str | None = None,
) -> Response:
    """The person's role's pending approvals, soonest due first, with what to decide on."""
    values = _inbox_values(request, user, role, limit, cursor)
    return render(request, "approvals.html", **values)


@router.get("/approvals/rows")
def inbox_rows(
    request: Request,
    user: ApprovalsReader,
    role: str | None = None,
    limit: str | None = None,
    cursor: str | None = None,
) -> Response:
    """The inbox's rows alone: what the page polls every 15 s."""
    values = _inbox_values(request, user, role, limit, cursor)
    return render(request, "approvals_rows.html", **values)


def _task_id(raw: str) -> int:
    if not (raw.isascii() and raw.isdigit()) or not 1 <= int(raw) <= 2**31 - 1:
        raise InvalidInput("task_id", raw, "must be an approval task's id (a whole number)")
    return int(raw)


def _comment(raw: str) -> str:
    if len(raw) > MAX_COMMENT:
        raise InvalidInput("comment", f"{len(raw)} characters", f"at most {MAX_COMMENT}")
    return raw.strip()


def _in_scope(user: SignedIn, task_id: int) -> None:
    """A task of a promotion outside the person's banners answers as a missing one (404)."""
    if not user.principal.banners.every:
        with reading(deps.read_sessions()) as session:
            approvals_service.get_task(session, task_id, banners=user.principal.banners)


def _decide(user: SignedIn, task_id: int, decision: Decision, comment: str) -> None:
    _in_scope(user, task_id)
    principal = user.principal
    commands.decide_approval(task_id, principal.name, principal.role, decision, comment)


@router.post("/approvals/{task_id}/decision")
def decide(
    request: Request,
    user: Approver,
    task_id: str,
    decision: Annotated[str, Form()] = "",
    comment: Annotated[str, Form()] = "",
) -> Response:
    """Approve or reject one task (refusals come back in the flash with the service's words)."""
    ident = _task_id(task_id)
    if decision not in DECISIONS:
        raise InvalidInput("decision", decision, "must be approve or reject")
    chosen: Decision = "approve" if decision == "approve" else "reject"
    _decide(user, ident, chosen, _comment(comment))
    if not request.headers.get("HX-Request"):
        return RedirectResponse("/approvals", status_code=303)
    with reading(deps.read_sessions()) as session:
        task = approvals_service.get_task(session, ident)
        code = promotions_service.get_promotion(session, task.promotion_id).code
    response = render(
        request,
        "approvals_decided.html",
        user=user,
        task_id=ident,
        role=task.role,
        code=code,
        status=task.status,
        decided_by=task.decided_by,
        comment=task.comment,
    )
    response.headers["HX-Trigger"] = "approvals-changed"  # the rows refresh: the task leaves
    return response


def _selected(raw: list[str]) -> list[int]:
    if not raw:
        raise InvalidInput("task_id", [], "select at least one task")
    if len(raw) > MAX_BULK:
        raise InvalidInput("task_id", f"{len(raw)} tasks", f"select at most {MAX_BULK} at once")
    return list(dict.fromkeys(_task_id(value) for value in raw))


@router.post("/approvals/bulk/preview")
def bulk_preview(
    request: Request,
    user: Approver,
    task_id: Annotated[list[str], Form()] = [],  # noqa: B006 (FastAPI copies defaults)
) -> Response:
    """What approving the selected tasks would do, and which the person may not approve."""
    ids = _selected(task_id)
    principal = user.principal
    with reading(deps.read_sessions()) as session:
        previews = queue.preview_approvals(
            session,
            ids,
            principal.name,
            principal.role,
            now=utcnow(),
            rules=deps.approval_queue_rules(),
            currency=deps.currency(request),
            banners=None if principal.banners.every else principal.banners,
        )
    approvable = [preview for preview in previews if preview.refusal is None]
    template = (
        "approvals_preview.html" if request.headers.get("HX-Request") else "approvals_bulk.html"
    )
    return render(
        request,
        template,
        user=user,
        section="Approvals",
        previews=previews,
        approvable=approvable,
        refused=len(previews) - len(approvable),
    )


@router.post("/approvals/bulk/approve")
def bulk_approve(
    request: Request,
    user: Approver,
    task_id: Annotated[list[str], Form()] = [],  # noqa: B006 (FastAPI copies defaults)
    comment: Annotated[str, Form()] = "",
) -> Response:
    """Approve the tasks one by one; each outcome (or refusal, in the service's words) shown."""
    ids = _selected(task_id)
    note = _comment(comment)
    outcomes: list[tuple[int, bool, str]] = []
    for ident in ids:
        try:
            _decide(user, ident, "approve", note)
        except PromoflowError as refused:
            outcomes.append((ident, False, refused.message))
        else:
            outcomes.append((ident, True, f"by {user.principal.name}"))
    template = (
        "approvals_outcome.html" if request.headers.get("HX-Request") else "approvals_bulk.html"
    )
    response = render(
        request,
        template,
        user=user,
        section="Approvals",
        outcomes=outcomes,
        approved=sum(1 for _, done, _ in outcomes if done),
    )
    response.headers["HX-Trigger"] = "approvals-changed"
    return response

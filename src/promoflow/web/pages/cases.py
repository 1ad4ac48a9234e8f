"""Exceptions: the operations command view (the open cases) and the actions on a case.

The queue reads what GET /api/v1/exceptions answers (the person's banners applied)
and refreshes itself every 10 s; an action goes through the command the API's
POST /exceptions/{case_id}/actions uses, so it is checked, audited and wakes the
waiting workflow the same way. One case's page is cases_detail.py; bulk retry is
cases_bulk.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from promoflow.api import deps
from promoflow.api.deps import IdPath
from promoflow.approvals import service as approvals_service
from promoflow.exceptions import service as exceptions_service
from promoflow.exceptions.schemas import CaseAction, CaseKind, CaseStatus, Severity
from promoflow.identity.schemas import Principal
from promoflow.kit.bounds import Text
from promoflow.kit.db import reading
from promoflow.kit.errors import InvalidInput, NotFound
from promoflow.kit.roles import Role
from promoflow.lifecycle import commands
from promoflow.promotions import service as promotions_service
from promoflow.promotions.states import PromotionState
from promoflow.web.access import CaseActor, CasesReader, allowed
from promoflow.web.templating import render

router = APIRouter()

ACT = "POST /exceptions/{case_id}/actions"
PAGE_SIZE = 50
ANY = "any"
STATUSES = (*tuple(CaseStatus), ANY)
REASON = Text(2000, lines=True)
NAME = Text(80)
# Cases that hold a launch back: their clock is the launch time the promotion was given.
BLOCKS_LAUNCH = frozenset(
    {
        CaseKind.CHANNEL_PUBLICATION_ERROR,
        CaseKind.STOCKOUT_RISK,
        CaseKind.SUPPLIER_SHORTFALL,
        CaseKind.PRICING_MISMATCH,
        CaseKind.INTEGRATION_FAILURE,
    }
)
BEFORE_LAUNCH = frozenset(
    {PromotionState.APPROVED, PromotionState.SCHEDULED, PromotionState.PUBLISHING}
)


@dataclass(frozen=True)
class Filters:
    """The queue's filters, as the URL carries them (a link reproduces the view)."""

    status: str = CaseStatus.OPEN
    kind: str = ""
    severity: str = ""
    owner_role: str = ""
    promotion: str = ""
    q: str = ""
    page: int = 1

    def query(self, **changes: Any) -> str:
        values = {**self.__dict__, **changes}
        return urlencode({k: v for k, v in values.items() if v and (k, v) != ("page", 1)})


@dataclass(frozen=True)
class CaseRow:
    """One case as the queue and the detail show it."""

    case: Any
    promotion_code: str | None
    promotion_status: str | None
    due: datetime | None
    due_label: str
    may_act: bool


def _choice(field: str, value: str, choices: tuple[str, ...]) -> str:
    value = value.strip()
    if value and value not in choices:
        raise InvalidInput(field, value, f"must be one of {', '.join(choices)}")
    return value


def _text(field: str, value: str, rule: Text) -> str:
    try:
        return rule.validate(value.strip())
    except ValueError as error:
        raise InvalidInput(field, value[:80], str(error)) from None


def read_filters(
    status: str = CaseStatus.OPEN,
    kind: str = "",
    severity: str = "",
    owner_role: str = "",
    promotion: str = "",
    q: str = "",
    page: Annotated[int, Query(ge=1, le=10_000)] = 1,
) -> Filters:
    return Filters(
        status=_choice("status", status, STATUSES) or CaseStatus.OPEN,
        kind=_choice("kind", kind, tuple(CaseKind)),
        severity=_choice("severity", severity, tuple(Severity)),
        owner_role=_choice("owner_role", owner_role, tuple(Role)),
        promotion=_text("promotion", promotion, Text(40)),
        q=_text("q", q, Text(200)),
        page=page,
    )


def may_act(request: Request, principal: Principal, case: Any) -> bool:
    """The service's rule, asked before showing a button: an open case, the permission,
    and the case's owner role (or operations_admin)."""
    return (
        case.status == CaseStatus.OPEN
        and allowed(request, principal, ACT)
        and principal.role in (case.owner_role, Role.OPERATIONS_ADMIN)
    )


def _due(session: Session, case: Any, promotion: Any) -> tuple[datetime | None, str]:
    """The clock a case runs against: the overdue approval's deadline, or the launch it holds."""
    if case.status != CaseStatus.OPEN:
        return None, ""
    task_id = case.linked.get("approval_task_id")
    if case.kind == CaseKind.APPROVAL_OVERDUE and task_id is not None:
        try:
            return approvals_service.get_task(session, int(task_id)).due_at, "approval due"
        except NotFound:
            return None, ""
    launch = (promotion.timing or {}).get("launch_at") if promotion is not None else None
    if (
        case.kind in BLOCKS_LAUNCH
        and launch
        and (promotion.status in BEFORE_LAUNCH or case.kind == CaseKind.CHANNEL_PUBLICATION_ERROR)
        and promotion.status not in (PromotionState.CANCELLED, PromotionState.CLOSED)
    ):
        return datetime.fromisoformat(launch), "launch"
    return None, ""


def case_row(request: Request, session: Session, principal: Principal, case: Any) -> CaseRow:
    promotion = (
        promotions_service.get_promotion(session, case.promotion_id)
        if case.promotion_id is not None
        else None
    )
    due, label = _due(session, case, promotion)
    return CaseRow(
        case=case,
        promotion_code=promotion.code if promotion is not None else None,
        promotion_status=promotion.status if promotion is not None else None,
        due=due,
        due_label=label,
        may_act=may_act(request, principal, case),
    )


def _matches(row: CaseRow, words: str) -> bool:
    case = row.case
    text = " ".join(
        [str(case.id), case.title, case.detail, row.promotion_code or "", case.assignee or ""]
        + [str(value) for value in case.linked.values()]
    )
    return all(word in text.casefold() for word in words.casefold().split())


def _queue(
    request: Request, session: Session, principal: Principal, filters: Filters
) -> tuple[list[CaseRow], int]:
    banners = principal.banners
    promotion_id = None
    if filters.promotion:
        try:
            promotion_id = promotions_service.find_promotion(
                session, filters.promotion, banners=banners
            ).id
        except NotFound:
            raise InvalidInput(
                "promotion", filters.promotion, "no promotion with this code that you may see"
            ) from None
    cases = exceptions_service.list_cases(
        session,
        status=None if filters.status == ANY else filters.status,
        owner_role=filters.owner_role or None,
        promotion_id=promotion_id,
        kind=filters.kind or None,
        banners=banners,
    )
    if filters.severity:
        cases = [case for case in cases if case.severity == filters.severity]
    start = (filters.page - 1) * PAGE_SIZE
    if not filters.q:  # only the page shown is read further
        shown = cases[start : start + PAGE_SIZE]
        return [case_row(request, session, principal, case) for case in shown], len(cases)
    rows = [case_row(request, session, principal, case) for case in cases]
    rows = [row for row in rows if _matches(row, filters.q)]
    return rows[start : start + PAGE_SIZE], len(rows)


def _queue_values(request: Request, user: Any, filters: Filters) -> dict[str, Any]:
    with reading(deps.read_sessions()) as session:
        rows, total = _queue(request, session, user.principal, filters)
    return {
        "user": user,
        "rows": rows,
        "total": total,
        "filters": filters,
        "page_size": PAGE_SIZE,
        "kinds": tuple(CaseKind),
        "severities": tuple(Severity),
        "roles": tuple(Role),
        "statuses": STATUSES,
        "can_act": allowed(request, user.principal, ACT),
    }


QueueFilters = Annotated[Filters, Depends(read_filters)]


@router.get("/cases")
def case_queue(request: Request, user: CasesReader, filters: QueueFilters) -> Response:
    """The open cases (by default) the person's banners may see, filtered by the URL."""
    return render(
        request, "cases.html", section="Exceptions", **_queue_values(request, user, filters)
    )


@router.get("/cases/rows")
def case_rows(request: Request, user: CasesReader, filters: QueueFilters) -> Response:
    """The queue's rows alone: htmx swaps them in every 10 s and after an action."""
    return render(request, "cases_rows.html", **_queue_values(request, user, filters))


@router.post("/cases/{case_id}/actions")
def act_on_case(
    request: Request,
    user: CaseActor,
    case_id: IdPath,
    action: Annotated[str, Form()] = "",
    reason: Annotated[str, Form()] = "",
    new_owner_role: Annotated[str, Form()] = "",
    assignee: Annotated[str, Form()] = "",
) -> Response:
    """Retry, waive, reassign, escalate or cancel, through the API's command."""
    principal = user.principal
    with reading(deps.read_sessions()) as session:  # a case outside the banners is not there
        exceptions_service.get_case(session, case_id, banners=principal.banners)
    _choice("action", action, tuple(CaseAction))
    if not action:
        raise InvalidInput("action", action, f"choose one of {', '.join(CaseAction)}")
    case = commands.resolve_exception(
        case_id,
        action,
        principal.name,
        principal.role,
        reason=_text("reason", reason, REASON),
        assignee=_text("assignee", assignee, NAME) or None,
        new_owner_role=_choice("new_owner_role", new_owner_role, tuple(Role)) or None,
    )
    if not request.headers.get("HX-Request"):
        return RedirectResponse(f"/cases/{case_id}?done={action}", status_code=303)
    response = render(request, "cases_done.html", case=case, action=action)
    response.headers["HX-Trigger"] = "cases-changed"
    return response

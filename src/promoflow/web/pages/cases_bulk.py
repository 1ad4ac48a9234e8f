"""Bulk retry: preview what a retry of each selected case will do, start them, follow them.

The preview says per case what the retry re-runs (for a publication failure: which
channel's publication, how many price changes in how many parts) and which cases
cannot be retried and why. "Retry N" acts on each through the API's command, one
by one (each is its own decision in the audit trail), then the progress fragment
is polled every 2 s until every item is done.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from promoflow.api import deps
from promoflow.exceptions import service as exceptions_service
from promoflow.exceptions.schemas import CaseAction, CaseKind, CaseStatus
from promoflow.identity.schemas import Principal
from promoflow.kit.bounds import MAX_ID
from promoflow.kit.db import reading
from promoflow.kit.errors import InvalidInput, NotFound, PromoflowError
from promoflow.kit.roles import Role
from promoflow.lifecycle import commands
from promoflow.promotions import service as promotions_service
from promoflow.promotions.states import PromotionState
from promoflow.publications import service as publications_service
from promoflow.publications.schemas import ChannelProgress, PublicationStatus
from promoflow.runtime import get_runtime
from promoflow.web.access import CaseActor, CasesReader, allowed
from promoflow.web.pages.cases import ACT
from promoflow.web.pages.cases_detail import failed_again
from promoflow.web.templating import render

router = APIRouter()

MAX_BULK = 100
BULK_REASON = "bulk retry from the console"
CaseIds = Annotated[list[str] | None, Query()]
FormCaseIds = Annotated[list[str] | None, Form()]


@dataclass(frozen=True)
class Plan:
    """One selected case: what its retry will do, or why it cannot be retried."""

    case_id: int
    title: str
    promotion_code: str | None
    does: str
    refused: str
    progress: ChannelProgress | None = None


@dataclass(frozen=True)
class Item:
    """One started retry as it goes: a word for its state, what it means, and whether done."""

    case_id: int
    promotion_code: str | None
    state: str
    detail: str
    done: bool


def _ids(values: list[str]) -> list[int]:
    if not values:
        raise InvalidInput("case_id", "", "select at least one case")
    if len(values) > MAX_BULK:
        raise InvalidInput("case_id", f"{len(values)} cases", f"select at most {MAX_BULK}")
    ids: list[int] = []
    for value in values:
        if not (value.isascii() and value.isdigit() and 1 <= int(value) <= MAX_ID):
            raise InvalidInput("case_id", value[:40], "not a case number")
        if int(value) not in ids:
            ids.append(int(value))
    return ids


def _progress(session: Session, case: Any, since: Any = None) -> ChannelProgress | None:
    channel = case.linked.get("channel")
    if case.kind != CaseKind.CHANNEL_PUBLICATION_ERROR or case.promotion_id is None or not channel:
        return None
    promotion = promotions_service.get_promotion(session, case.promotion_id)
    size = get_runtime().settings.publication_part_size
    return publications_service.channel_progress(
        session, promotion, str(channel), part_size=size, since=since
    )


def _refusal(request: Request, principal: Principal, case: Any) -> str:
    if case.status != CaseStatus.OPEN:
        return f"already {case.status}: {case.resolution} by {case.resolved_by}"
    if CaseAction.RETRY not in case.allowed_actions:
        offered = ", ".join(case.allowed_actions)
        return f"retry is not offered on this {case.kind} case (it offers {offered})"
    if not allowed(request, principal, ACT):
        return f"your role {principal.role} may not act on exception cases"
    if principal.role not in (case.owner_role, Role.OPERATIONS_ADMIN):
        return f"owned by {case.owner_role}; your role {principal.role} may not act on it"
    return ""


def _plan(request: Request, session: Session, principal: Principal, case_id: int) -> Plan:
    try:
        case = exceptions_service.get_case(session, case_id, banners=principal.banners)
    except NotFound:
        return Plan(case_id, "", None, "", "no such case among those you may see")
    code = (
        promotions_service.get_promotion(session, case.promotion_id).code
        if case.promotion_id is not None
        else None
    )
    refused = _refusal(request, principal, case)
    progress = None if refused else _progress(session, case)
    if refused:
        does = ""
    elif progress is not None:
        does = (
            f"re-runs the {progress.channel} publication ({progress.publication_key}): "
            f"{progress.prices} price changes in {_parts(progress.parts)}"
        )
        if progress.parts_done:
            does += (
                f"; the {_parts(progress.parts_done)} the channel already took "
                "are acknowledged, not applied twice"
            )
    else:
        does = f"hands the case back to its workflow, which re-runs the step: {case.title}"
    return Plan(case_id, case.title, code, does, refused, progress)


def _parts(count: int) -> str:
    return f"{count} part" if count == 1 else f"{count} parts"


def _plans(request: Request, user: Any, ids: list[int]) -> list[Plan]:
    with reading(deps.read_sessions()) as session:
        return [_plan(request, session, user.principal, case_id) for case_id in ids]


@router.get("/cases/bulk/preview")
def bulk_preview(request: Request, user: CasesReader, case_id: CaseIds = None) -> Response:
    """What retrying the selected cases would do, and which cannot be retried and why."""
    plans = _plans(request, user, _ids(case_id or []))
    return render(
        request,
        "cases_bulk_preview.html",
        user=user,
        ready=[plan for plan in plans if not plan.refused],
        refused=[plan for plan in plans if plan.refused],
    )


@router.post("/cases/bulk/retry")
def bulk_retry(request: Request, user: CaseActor, case_id: FormCaseIds = None) -> Response:
    """Retry each case that can be (refusals are listed), then follow them."""
    started: list[int] = []
    refused: list[tuple[int, str]] = []
    for plan in _plans(request, user, _ids(case_id or [])):
        if plan.refused:
            refused.append((plan.case_id, plan.refused))
            continue
        try:
            commands.resolve_exception(
                plan.case_id,
                CaseAction.RETRY,
                user.principal.name,
                user.principal.role,
                reason=BULK_REASON,
            )
        except PromoflowError as error:  # someone else acted first, or the rules changed
            refused.append((plan.case_id, error.message))
            continue
        started.append(plan.case_id)
    items = _items(user, started)
    return render(
        request,
        "cases_bulk_progress.html",
        user=user,
        refused=refused,
        items=items,
        query=urlencode([("case_id", item.case_id) for item in items]),
        finished=all(item.done for item in items),
    )


@router.get("/cases/bulk/progress")
def bulk_progress(request: Request, user: CasesReader, case_id: CaseIds = None) -> Response:
    """The started retries' progress; polled every 2 s until every item is done."""
    items = _items(user, _ids(case_id or []))
    return render(
        request,
        "cases_bulk_items.html",
        items=items,
        query=urlencode([("case_id", item.case_id) for item in items]),
        finished=all(item.done for item in items),
    )


def _items(user: Any, ids: list[int]) -> list[Item]:
    with reading(deps.read_sessions()) as session:
        return [_item(session, user.principal, case_id) for case_id in ids]


def _item(session: Session, principal: Principal, case_id: int) -> Item:
    try:
        case = exceptions_service.get_case(session, case_id, banners=principal.banners)
    except NotFound:
        return Item(case_id, None, "unknown", "no such case among those you may see", True)
    promotion = (
        promotions_service.get_promotion(session, case.promotion_id)
        if case.promotion_id is not None
        else None
    )
    code = promotion.code if promotion is not None else None
    if case.status == CaseStatus.OPEN:
        return Item(case_id, code, "waiting", "the retry has not been recorded yet", False)
    if case.resolution != CaseAction.RETRY:
        detail = f"{case.resolution} by {case.resolved_by}"
        return Item(case_id, code, "not retried", detail, True)
    progress = _progress(session, case, since=case.resolved_at)
    if progress is None:
        return Item(case_id, code, "resumed", "handed back to its workflow", True)
    parts = f"{progress.parts_done} of {progress.parts} parts applied"
    if progress.status == PublicationStatus.PUBLISHED:
        return Item(case_id, code, "published", f"{parts}, {progress.prices} prices", True)
    again = failed_again(session, case)
    if again is not None:
        return Item(case_id, code, "failed again", f"{parts}; new case #{again}", True)
    if promotion is not None and promotion.status == PromotionState.CANCELLED:
        return Item(case_id, code, "cancelled", "the promotion was cancelled", True)
    return Item(case_id, code, "publishing", parts, False)

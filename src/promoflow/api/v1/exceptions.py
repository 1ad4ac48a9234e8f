"""Exception cases: list, read, act (retry, waive, reassign, escalate, cancel)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Response

from promoflow.api.conditional import IfMatch, IfNoneMatch, change_responses, read_responses, tagged
from promoflow.api.deps import OMITTABLE, IdPath, OneOf, SessionDep
from promoflow.api.pagination import Pagination
from promoflow.api.permissions import CaseOperator, Reader
from promoflow.api.schemas import ExceptionActionBody, ExceptionCaseOut, Page
from promoflow.exceptions import service as exceptions_service
from promoflow.exceptions.service import CASE_KINDS, CASE_STATUSES
from promoflow.kit.bounds import MAX_ID
from promoflow.kit.keyset import SortKey
from promoflow.kit.preconditions import entity_tag
from promoflow.kit.roles import ROLES
from promoflow.lifecycle import commands

router = APIRouter(prefix="/exceptions", tags=["exceptions"])


def _recent_first(case: Any) -> SortKey:
    """The cases' order: most recently opened first, then the higher id."""
    return (case.opened_at, case.id)


@router.get("", response_model=Page[ExceptionCaseOut])
def list_cases(
    session: SessionDep,
    actor: Reader,
    page: Pagination,
    status: Annotated[
        str | None, Query(description="open or resolved"), OneOf(CASE_STATUSES)
    ] = None,
    owner_role: Annotated[str | None, Query(), OneOf(ROLES)] = None,
    promotion_id: Annotated[int | None, Query(ge=1, le=MAX_ID), OMITTABLE] = None,
    kind: Annotated[
        str | None, Query(description="e.g. supplier_shortfall"), OneOf(CASE_KINDS)
    ] = None,
) -> Page[ExceptionCaseOut]:
    """Exception cases the caller's banners may see, most recent first, filtered by status,
    owner, promotion and kind (a case of no promotion is for callers of every banner)."""
    rows = exceptions_service.list_cases(
        session,
        status=status,
        owner_role=owner_role,
        promotion_id=promotion_id,
        kind=kind,
        banners=actor.banners,
    )
    # The service answers the whole filtered list (it always has): the keyset applies to it.
    shown = page.slice(rows, _recent_first, descending=True)
    return page.of(ExceptionCaseOut, shown, len(rows), _recent_first)


@router.get("/{case_id}", response_model=ExceptionCaseOut, responses=read_responses(404))
def get_case(
    session: SessionDep, _actor: Reader, case_id: IdPath, held: IfNoneMatch, response: Response
) -> ExceptionCaseOut | Response:
    """One exception case with its linked objects and allowed actions, and its ETag."""
    case = exceptions_service.get_case(session, case_id)
    if (unchanged := tagged(response, entity_tag(case), held)) is not None:
        return unchanged
    return ExceptionCaseOut.model_validate(case)


@router.post(
    "/{case_id}/actions",
    response_model=ExceptionCaseOut,
    responses=change_responses(200, 403, 404, 409),
)
def act_on_case(
    actor: CaseOperator,
    case_id: IdPath,
    body: ExceptionActionBody,
    if_match: IfMatch,
    response: Response,
) -> ExceptionCaseOut:
    """Act on a case; its owner role or operations_admin may, and the workflow wakes.
    If-Match is optional; the answer carries the case's new ETag."""
    case = commands.resolve_exception(
        case_id,
        body.action,
        actor.name,
        actor.role,
        reason=body.reason,
        assignee=body.assignee,
        if_match=if_match,
    )
    tagged(response, entity_tag(case))
    return ExceptionCaseOut.model_validate(case)

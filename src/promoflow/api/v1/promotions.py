"""Promotions: create, list, read, revise, submit, cancel, confirm store readiness."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Query, Request, Response

from promoflow.api.conditional import IfMatch, IfNoneMatch, change_responses, read_responses, tagged
from promoflow.api.deps import Currency, OneOf, PromotionId, PromotionRef, ReadSessions, SessionDep
from promoflow.api.pagination import Pagination
from promoflow.api.permissions import (
    PromotionCanceller,
    PromotionCreator,
    PromotionReviser,
    PromotionSubmitter,
    Reader,
    StoreOperator,
)
from promoflow.api.problems import problem_responses
from promoflow.api.schemas import (
    Page,
    PromotionCreateBody,
    PromotionDetail,
    ReasonBody,
    ScopeItemOut,
    ScopeLocationOut,
    StoreTasksConfirmBody,
    StoreTasksConfirmed,
    SubmissionAccepted,
    SubmitBody,
)
from promoflow.kit.money import MoneyAmount
from promoflow.lifecycle import commands
from promoflow.promotions import service as promotions_service
from promoflow.promotions.schemas import PromotionOut, PromotionRevise
from promoflow.promotions.states import STATES

router = APIRouter(prefix="/promotions", tags=["promotions"])


def _detail_path(request: Request, promotion_id: int) -> str:
    return str(request.app.url_path_for("get_promotion", ref=str(promotion_id)))


def tag_promotion(reads: ReadSessions, promotion_id: int, response: Response) -> None:
    """The promotion's ETag on a change's answer, read after the change committed."""
    with reads() as session:
        promotion = promotions_service.get_promotion(session, promotion_id)
        tagged(response, promotions_service.promotion_tag(session, promotion))


@router.post("", status_code=201, response_model=PromotionOut, responses=problem_responses(403))
def create_promotion(
    body: PromotionCreateBody, actor: PromotionCreator, request: Request, response: Response
) -> PromotionOut:
    """Create a draft promotion; nothing is written when any field is refused."""
    promotion = commands.create_promotion(body, actor.name, banners=actor.banners)
    response.headers["Location"] = _detail_path(request, promotion.id)
    return PromotionOut.model_validate(promotion)


@router.get("", response_model=Page[PromotionOut])
def list_promotions(
    session: SessionDep,
    actor: Reader,
    page: Pagination,
    status: Annotated[
        str | None, Query(description="Only promotions in this state"), OneOf(STATES)
    ] = None,
) -> Page[PromotionOut]:
    """Promotions of the caller's banners, oldest first, optionally filtered by status."""
    rows, total = promotions_service.promotions_page(
        session, status, page.fetch, banners=actor.banners, after=page.after_id()
    )
    return page.of(PromotionOut, rows, total, key=lambda row: (row.id,))


@router.get("/{ref}", response_model=PromotionDetail, responses=read_responses(404))
def get_promotion(
    session: SessionDep,
    _actor: Reader,
    ref: PromotionRef,
    held: IfNoneMatch,
    response: Response,
    currency: Currency,
) -> PromotionDetail | Response:
    """One promotion with its terms, scope, timing, status, revision and workflow id.

    Its ETag changes with every change to the promotion (and to the catalogue names and
    prices its scope shows); send it as If-Match to change the promotion."""
    promotion = promotions_service.find_promotion(session, ref)
    scope = promotions_service.scope_items(session, promotion.id)
    places = promotions_service.scope_locations(session, promotion.id)
    tag = promotions_service.promotion_tag(session, promotion, scope, places)
    if (unchanged := tagged(response, tag, held)) is not None:
        return unchanged
    detail = PromotionDetail.model_validate(promotion, context={"currency": currency})
    detail.items = [
        ScopeItemOut(
            sku=item.sku,
            name=item.name,
            regular_price=MoneyAmount.of(item.regular_price, currency),
            promo_price=MoneyAmount.of(scoped.promo_price, currency),
        )
        for scoped, item in scope
    ]
    detail.locations = [ScopeLocationOut.model_validate(location) for location in places]
    return detail


@router.post(
    "/{ref}/submit",
    status_code=202,
    response_model=SubmissionAccepted,
    responses=change_responses(202, 403, 404, 409),
)
def submit_promotion(
    actor: PromotionSubmitter,
    promotion_id: PromotionId,
    request: Request,
    response: Response,
    if_match: IfMatch,
    reads: ReadSessions,
    body: Annotated[SubmitBody | None, Body()] = None,
) -> SubmissionAccepted:
    """Start the lifecycle workflow for the promotion's next revision (If-Match optional)."""
    timing = body or SubmitBody()
    workflow_id = commands.submit_promotion(
        promotion_id,
        actor.name,
        launch_lead_hours=timing.launch_lead_hours,
        live_hours=timing.live_hours,
        if_match=if_match,
    )
    tag_promotion(reads, promotion_id, response)
    status_url = _detail_path(request, promotion_id)
    response.headers["Location"] = status_url
    return SubmissionAccepted(workflow_id=workflow_id, status_url=status_url)


@router.post(
    "/{ref}/revisions",
    status_code=201,
    response_model=PromotionOut,
    responses=change_responses(201, 403, 404, 409),
)
def revise_promotion(
    actor: PromotionReviser,
    promotion_id: PromotionId,
    body: PromotionRevise,
    request: Request,
    response: Response,
    if_match: IfMatch,
    reads: ReadSessions,
) -> PromotionOut:
    """Change a draft, or open a rejected promotion's next revision as a draft.

    Omitted fields keep their value; every given one is checked as on create and the
    result as a whole, and nothing is written when any is refused. A rejected
    promotion's revision number goes up by one; a draft's open revision keeps its
    number (it was never submitted). Only the requester or operations_admin may
    revise; any other state is a 409 naming it. Submit the draft when it is ready.

    Needs If-Match (428 without it): the ETag of the promotion as read, so that a
    revision never overwrites another made since (412 then, with the current ETag).
    """
    promotion = commands.revise_promotion(
        promotion_id,
        body,
        actor.name,
        actor.role,
        banners=actor.banners,
        if_match=if_match,
    )
    response.headers["Location"] = _detail_path(request, promotion.id)
    tag_promotion(reads, promotion.id, response)
    return PromotionOut.model_validate(promotion)


@router.post(
    "/{ref}/cancel",
    status_code=202,
    response_model=PromotionOut,
    responses=change_responses(202, 403, 404, 409),
)
def cancel_promotion(
    actor: PromotionCanceller,
    promotion_id: PromotionId,
    body: ReasonBody,
    if_match: IfMatch,
    reads: ReadSessions,
    response: Response,
) -> PromotionOut:
    """Cancel a draft at once, or ask a running lifecycle to cancel and compensate
    (If-Match optional)."""
    promotion = commands.cancel_promotion(
        promotion_id, actor.name, actor.role, body.reason, if_match=if_match
    )
    tag_promotion(reads, promotion_id, response)
    return PromotionOut.model_validate(promotion)


@router.post(
    "/{ref}/store-tasks/confirm",
    response_model=StoreTasksConfirmed,
    responses=change_responses(200, 403, 404, 409),
)
def confirm_store_tasks(
    actor: StoreOperator,
    promotion_id: PromotionId,
    body: StoreTasksConfirmBody,
    if_match: IfMatch,
    reads: ReadSessions,
    response: Response,
) -> StoreTasksConfirmed:
    """Confirm store readiness tasks for the given stores, or every open one (If-Match
    optional, against the promotion's ETag)."""
    confirmed = commands.confirm_store_tasks(
        promotion_id, body.location_codes, actor.name, if_match=if_match
    )
    tag_promotion(reads, promotion_id, response)
    return StoreTasksConfirmed(confirmed=confirmed)

"""Promotions: create, list, read, revise, submit, cancel, confirm store readiness."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Query, Request, Response

from promoflow.api.deps import OneOf, PromotionId, PromotionRef, SessionDep
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
from promoflow.lifecycle import commands
from promoflow.promotions import service as promotions_service
from promoflow.promotions.schemas import PromotionOut, PromotionRevise
from promoflow.promotions.states import STATES

router = APIRouter(prefix="/promotions", tags=["promotions"])


def _detail_path(request: Request, promotion_id: int) -> str:
    return str(request.app.url_path_for("get_promotion", ref=str(promotion_id)))


@router.post("", status_code=201, response_model=PromotionOut, responses=problem_responses(403))
def create_promotion(
    body: PromotionCreateBody, actor: PromotionCreator, request: Request, response: Response
) -> PromotionOut:
    """Create a draft promotion; nothing is written when any field is refused."""
    promotion = commands.create_promotion(body, actor.name)
    response.headers["Location"] = _detail_path(request, promotion.id)
    return PromotionOut.model_validate(promotion)


@router.get("", response_model=Page[PromotionOut])
def list_promotions(
    session: SessionDep,
    _actor: Reader,
    page: Pagination,
    status: Annotated[
        str | None, Query(description="Only promotions in this state"), OneOf(STATES)
    ] = None,
) -> Page[PromotionOut]:
    """Promotions, oldest first, optionally filtered by status."""
    after = page.after_id()
    rows, total = promotions_service.promotions_page(session, status, page.fetch, after=after)
    return page.of(PromotionOut, rows, total, key=lambda row: (row.id,))


@router.get("/{ref}", response_model=PromotionDetail, responses=problem_responses(404))
def get_promotion(session: SessionDep, _actor: Reader, ref: PromotionRef) -> PromotionDetail:
    """One promotion with its terms, scope, timing, status, revision and workflow id."""
    promotion = promotions_service.find_promotion(session, ref)
    detail = PromotionDetail.model_validate(promotion)
    detail.items = [
        ScopeItemOut(
            sku=item.sku,
            name=item.name,
            regular_price=item.regular_price,
            promo_price=scoped.promo_price,
        )
        for scoped, item in promotions_service.scope_items(session, promotion.id)
    ]
    detail.locations = [
        ScopeLocationOut.model_validate(location)
        for location in promotions_service.scope_locations(session, promotion.id)
    ]
    return detail


@router.post(
    "/{ref}/submit",
    status_code=202,
    response_model=SubmissionAccepted,
    responses=problem_responses(403, 404, 409),
)
def submit_promotion(
    actor: PromotionSubmitter,
    promotion_id: PromotionId,
    request: Request,
    response: Response,
    body: Annotated[SubmitBody | None, Body()] = None,
) -> SubmissionAccepted:
    """Start the lifecycle workflow for the promotion's next revision."""
    timing = body or SubmitBody()
    workflow_id = commands.submit_promotion(
        promotion_id,
        actor.name,
        launch_lead_hours=timing.launch_lead_hours,
        live_hours=timing.live_hours,
    )
    status_url = _detail_path(request, promotion_id)
    response.headers["Location"] = status_url
    return SubmissionAccepted(workflow_id=workflow_id, status_url=status_url)


@router.post(
    "/{ref}/revisions",
    status_code=201,
    response_model=PromotionOut,
    responses=problem_responses(403, 404, 409),
)
def revise_promotion(
    actor: PromotionReviser,
    promotion_id: PromotionId,
    body: PromotionRevise,
    request: Request,
    response: Response,
) -> PromotionOut:
    """Change a draft, or open a rejected promotion's next revision as a draft.

    Omitted fields keep their value; every given one is checked as on create and the
    result as a whole, and nothing is written when any is refused. A rejected
    promotion's revision number goes up by one; a draft's open revision keeps its
    number (it was never submitted). Only the requester or operations_admin may
    revise; any other state is a 409 naming it. Submit the draft when it is ready.
    """
    promotion = commands.revise_promotion(promotion_id, body, actor.name, actor.role)
    response.headers["Location"] = _detail_path(request, promotion.id)
    return PromotionOut.model_validate(promotion)


@router.post(
    "/{ref}/cancel",
    status_code=202,
    response_model=PromotionOut,
    responses=problem_responses(403, 404, 409),
)
def cancel_promotion(
    actor: PromotionCanceller, promotion_id: PromotionId, body: ReasonBody
) -> PromotionOut:
    """Cancel a draft at once, or ask a running lifecycle to cancel and compensate."""
    promotion = commands.cancel_promotion(promotion_id, actor.name, actor.role, body.reason)
    return PromotionOut.model_validate(promotion)


@router.post(
    "/{ref}/store-tasks/confirm",
    response_model=StoreTasksConfirmed,
    responses=problem_responses(403, 404, 409),
)
def confirm_store_tasks(
    actor: StoreOperator, promotion_id: PromotionId, body: StoreTasksConfirmBody
) -> StoreTasksConfirmed:
    """Confirm store readiness tasks for the given stores, or every open one."""
    confirmed = commands.confirm_store_tasks(promotion_id, body.location_codes, actor.name)
    return StoreTasksConfirmed(confirmed=confirmed)

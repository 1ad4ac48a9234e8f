"""AI governance, read-only: the model registry and a promotion's recommendations."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, ConfigDict, Field

from promoflow.api.deps import OMITTABLE, OneOf, PromotionRef, SessionDep
from promoflow.api.pagination import Pagination
from promoflow.api.permissions import Reader
from promoflow.api.problems import problem_responses
from promoflow.api.schemas import Page
from promoflow.forecasting import registry
from promoflow.forecasting.registry import KIND_PATTERN, VERSION_PATTERN
from promoflow.forecasting.schemas import MODEL_STATUSES
from promoflow.kit.bounds import MAX_COUNT
from promoflow.kit.keyset import SortKey
from promoflow.promotions import service as promotions_service
from promoflow.recommendations import service as recommendations_service
from promoflow.recommendations.schemas import RECOMMENDATION_KINDS, RECOMMENDATION_STATUSES

router = APIRouter()


def _newest_first(version: Any) -> SortKey:
    """Model versions' order: most recently registered first, then the higher id."""
    return (version.created_at, version.id)


def _by_id(row: Any) -> SortKey:
    return (int(row.id),)


ModelVersionRef = Annotated[
    str,
    Path(
        min_length=1,
        max_length=64,
        pattern=VERSION_PATTERN.pattern,
        description="Model version, e.g. demand-2026.11.1",
    ),
]


class ModelVersionOut(BaseModel):
    model_config = ConfigDict(from_attributes=True, protected_namespaces=())

    version: str
    kind: str
    status: str
    training_start: str
    training_end: str
    features: list[str]
    data_hash: str
    backtest_model: str
    backtest_cutoff: str
    backtest_horizon: int | None
    backtest_metrics: dict[str, Any]
    parameters: dict[str, Any]
    registered_by: str
    created_at: datetime
    promoted_at: datetime | None
    promoted_by: str | None
    approved_by: str | None
    approver_role: str | None
    policy_version: str | None
    retired_at: datetime | None
    retired_by: str | None
    status_reason: str
    notes: str


class RecommendationLineOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    item_id: int
    location_id: int
    source_id: int
    quantity_proposed: float
    quantity_decided: float | None
    expected_service_level: float | None
    details: dict[str, Any]


class RecommendationOut(BaseModel):
    model_config = ConfigDict(from_attributes=True, protected_namespaces=())

    id: int
    promotion_id: int
    revision: int
    kind: str
    status: str
    model_version: str
    inputs_hash: str
    summary: dict[str, Any]
    threshold: dict[str, Any]
    created_at: datetime
    decided_by: str | None
    decided_role: str | None
    decided_at: datetime | None
    reason: str | None
    superseded_by: int | None
    lines: list[RecommendationLineOut] = Field(default_factory=list)


@router.get("/models", response_model=Page[ModelVersionOut], tags=["models"])
def list_models(
    session: SessionDep,
    _actor: Reader,
    page: Pagination,
    kind: Annotated[
        str | None, Query(pattern=KIND_PATTERN.pattern, description="e.g. demand"), OMITTABLE
    ] = None,
    status: Annotated[str | None, Query(), OneOf(MODEL_STATUSES)] = None,
) -> Page[ModelVersionOut]:
    """Registered model versions with their backtests, most recent first."""
    rows = registry.list_versions(session, kind=kind, status=status)
    shown = page.slice(rows, _newest_first, descending=True)
    return page.of(ModelVersionOut, shown, len(rows), _newest_first)


@router.get(
    "/models/{version}",
    response_model=ModelVersionOut,
    tags=["models"],
    responses=problem_responses(404),
)
def get_model(session: SessionDep, _actor: Reader, version: ModelVersionRef) -> ModelVersionOut:
    """One model version: training window, data hash, backtest, who promoted it and why."""
    return ModelVersionOut.model_validate(registry.get_version(session, version))


@router.get(
    "/promotions/{ref}/recommendations",
    response_model=Page[RecommendationOut],
    tags=["promotions"],
    responses=problem_responses(404),
)
def list_recommendations(
    session: SessionDep,
    _actor: Reader,
    ref: PromotionRef,
    page: Pagination,
    revision: Annotated[
        int | None, Query(ge=1, le=MAX_COUNT, description="default: the current one"), OMITTABLE
    ] = None,
    kind: Annotated[str | None, Query(), OneOf(RECOMMENDATION_KINDS)] = None,
    status: Annotated[str | None, Query(), OneOf(RECOMMENDATION_STATUSES)] = None,
) -> Page[RecommendationOut]:
    """Allocation and replenishment recommendations of a revision, newest first, with lines."""
    promotion = promotions_service.find_promotion(session, ref)
    rows = recommendations_service.list_recommendations(
        session,
        promotion.id,
        revision=revision or promotion.revision,
        kind=kind,
        status=status,
    )
    items, next_cursor = page.cut(page.slice(rows, _by_id, descending=True), _by_id)
    lines = recommendations_service.lines_for(session, [row.id for row in items])
    out = [
        RecommendationOut.model_validate(row).model_copy(
            update={"lines": [RecommendationLineOut.model_validate(x) for x in lines[row.id]]}
        )
        for row in items
    ]
    return Page[RecommendationOut](
        items=out, total=len(rows), limit=page.limit, next_cursor=next_cursor
    )

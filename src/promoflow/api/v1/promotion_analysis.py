"""A draft's what-if and a launched promotion's execution variance; both only read."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from promoflow.api.deps import Currency, PromotionRef, SessionDep
from promoflow.api.permissions import Reader
from promoflow.api.problems import problem_responses
from promoflow.connectors import registry
from promoflow.execution.schemas import ExecutionVariance
from promoflow.execution.variance import execution_variance
from promoflow.whatif.grid import MAX_VARIANTS, VariantGrid, parse_depths, parse_names
from promoflow.whatif.schemas import WhatIfAnswer
from promoflow.whatif.service import what_if

router = APIRouter(prefix="/promotions/{ref}", tags=["promotions"])
SUPPORT = "on, off or both"


class WhatIfBody(BaseModel):
    """The variants to forecast; a list left empty keeps the draft's own value."""

    depths: list[float] = Field(
        default_factory=list, max_length=MAX_VARIANTS, description="percentages off, 0-90"
    )
    mechanics: list[Annotated[str, Field(max_length=16)]] = Field(
        default_factory=list, max_length=5, description="percent_off, amount_off, ..."
    )
    display: str = Field("both", max_length=8, description=SUPPORT)
    feature: str = Field("both", max_length=8, description=SUPPORT)


@router.get("/whatif", response_model=WhatIfAnswer, responses=problem_responses(404, 409))
def get_whatif(
    session: SessionDep,
    _actor: Reader,
    ref: PromotionRef,
    currency: Currency,
    depth: Annotated[
        str, Query(max_length=400, description="depths to try, % off, comma-separated: 10,20,30")
    ] = "",
    mechanic: Annotated[
        str, Query(max_length=100, description="mechanics to try, comma-separated")
    ] = "",
    display: Annotated[str, Query(max_length=8, description=SUPPORT)] = "both",
    feature: Annotated[str, Query(max_length=8, description=SUPPORT)] = "both",
) -> WhatIfAnswer:
    """Forecast a draft under other depths, mechanics, display and feature with the champion
    model (or the lifecycle's fallback, named in `answered_by`); 409 unless it is a draft."""
    grid = VariantGrid(parse_depths(depth), parse_names(mechanic), display, feature)
    return what_if(session, ref, grid, currency=currency)


@router.post("/whatif", response_model=WhatIfAnswer, responses=problem_responses(404, 409))
def post_whatif(
    session: SessionDep, _actor: Reader, ref: PromotionRef, currency: Currency, body: WhatIfBody
) -> WhatIfAnswer:
    """The GET's what-if with the variants in a JSON body; nothing is written."""
    grid = VariantGrid(tuple(body.depths), tuple(body.mechanics), body.display, body.feature)
    return what_if(session, ref, grid, currency=currency)


@router.get("/variance", response_model=ExecutionVariance, responses=problem_responses(404, 409))
def get_variance(session: SessionDep, _actor: Reader, ref: PromotionRef) -> ExecutionVariance:
    """Planned against actual launch per channel and store, readiness at launch, forecast
    against actual lift, allocation against sell-through, stockout weeks; 409 before launch."""
    return execution_variance(session, ref, registry.get_sales_feed())

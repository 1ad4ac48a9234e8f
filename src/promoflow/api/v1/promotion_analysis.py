"""A draft's what-if and a launched promotion's execution variance; both only read."""

from __future__ import annotations

from typing import Annotated, Literal, get_args

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field

from promoflow.api.deps import Currency, OneOf, PromotionRef, SessionDep
from promoflow.api.permissions import Reader, WhatIfExplorer
from promoflow.api.problems import problem_responses
from promoflow.connectors import registry
from promoflow.execution.schemas import ExecutionVariance
from promoflow.execution.variance import execution_variance
from promoflow.promotions.schemas import Mechanic
from promoflow.whatif.grid import (
    MAX_DEPTH_PERCENT,
    MAX_DEPTHS,
    SUPPORT_CHOICES,
    VariantGrid,
    parse_depths,
    parse_names,
)
from promoflow.whatif.schemas import WhatIfAnswer
from promoflow.whatif.service import what_if

router = APIRouter(prefix="/promotions/{ref}", tags=["promotions"])
SUPPORT = "on, off or both"
SUPPORT_VALUES = tuple(SUPPORT_CHOICES)


Support = Literal["on", "off", "both"]
MECHANICS: tuple[str, ...] = get_args(Mechanic)
# A depth in the query: a percentage off from 0 to 90, at most two decimals.
DEPTH = r"(?:[0-9]|[1-8][0-9])(?:\.[0-9]{1,2})?|90(?:\.0{1,2})?"
MECHANIC = "|".join(MECHANICS)


class WhatIfBody(BaseModel):
    """The variants to forecast; a list left empty keeps the draft's own value."""

    model_config = ConfigDict(extra="forbid")

    depths: list[Annotated[float, Field(ge=0, le=MAX_DEPTH_PERCENT)]] = Field(
        default_factory=list, max_length=MAX_DEPTHS, description="percentages off, 0-90"
    )
    mechanics: list[Mechanic] = Field(default_factory=list, max_length=len(MECHANICS))
    display: Support = Field("both", description=SUPPORT)
    feature: Support = Field("both", description=SUPPORT)


@router.get("/whatif", response_model=WhatIfAnswer, responses=problem_responses(403, 404, 409))
def get_whatif(
    session: SessionDep,
    _actor: WhatIfExplorer,
    ref: PromotionRef,
    currency: Currency,
    depth: Annotated[
        str,
        Query(
            pattern=f"^(?:{DEPTH})(?:,(?:{DEPTH})){{0,{MAX_DEPTHS - 1}}}$",
            description="depths to try, % off (0-90), comma-separated: 10,20,30",
        ),
    ] = "",
    mechanic: Annotated[
        str,
        Query(
            pattern=f"^(?:{MECHANIC})(?:,(?:{MECHANIC})){{0,{len(MECHANICS) - 1}}}$",
            description="mechanics to try, comma-separated (default: the draft's)",
        ),
    ] = "",
    display: Annotated[str, Query(description=SUPPORT), OneOf(SUPPORT_VALUES)] = "both",
    feature: Annotated[str, Query(description=SUPPORT), OneOf(SUPPORT_VALUES)] = "both",
) -> WhatIfAnswer:
    """Forecast a draft under other depths, mechanics, display and feature with the champion
    model (or the lifecycle's fallback, named in `answered_by`); 409 unless it is a draft."""
    grid = VariantGrid(parse_depths(depth), parse_names(mechanic), display, feature)
    return what_if(session, ref, grid, currency=currency)


@router.post("/whatif", response_model=WhatIfAnswer, responses=problem_responses(403, 404, 409))
def post_whatif(
    session: SessionDep,
    _actor: WhatIfExplorer,
    ref: PromotionRef,
    currency: Currency,
    body: WhatIfBody,
) -> WhatIfAnswer:
    """The GET's what-if with the variants in a JSON body; nothing is written."""
    grid = VariantGrid(tuple(body.depths), tuple(body.mechanics), body.display, body.feature)
    return what_if(session, ref, grid, currency=currency)


@router.get("/variance", response_model=ExecutionVariance, responses=problem_responses(404, 409))
def get_variance(session: SessionDep, _actor: Reader, ref: PromotionRef) -> ExecutionVariance:
    """Planned against actual launch per channel and store, readiness at launch, forecast
    against actual lift, allocation against sell-through, stockout weeks; 409 before launch."""
    return execution_variance(session, ref, registry.get_sales_feed())

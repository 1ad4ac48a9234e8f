"""Request-scoped dependencies: a read session, pagination, promotion references."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Path, Query
from sqlalchemy.orm import Session

from promoflow.promotions import service as promotions_service
from promoflow.runtime import get_runtime

MAX_PAGE = 500


def read_session() -> Iterator[Session]:
    """A read-only session from the read pool, closed (and so rolled back) after the request.

    Write handlers do not take one: commands open their own transaction from the
    command pool. On SQLite a read never takes the write lock, and it cannot
    write (query_only) should a handler try.
    """
    session = get_runtime().read_sessions()
    try:
        yield session
    finally:
        session.close()


SessionDep = Annotated[Session, Depends(read_session)]


@dataclass(frozen=True)
class PageParams:
    limit: int
    offset: int


def page_params(
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE, description="rows per page")] = 100,
    offset: Annotated[int, Query(ge=0, description="rows to skip")] = 0,
) -> PageParams:
    """The `limit` and `offset` query parameters of every list route."""
    return PageParams(limit=limit, offset=offset)


Pagination = Annotated[PageParams, Depends(page_params)]

PromotionRef = Annotated[
    str, Path(min_length=1, max_length=40, description="Promotion id or code, e.g. 42 or PRM-00042")
]


def promotion_id(ref: PromotionRef) -> int:
    """Resolve a promotion id or code in a short session closed before any command runs."""
    with get_runtime().read_sessions() as session:
        return promotions_service.find_promotion(session, ref).id


PromotionId = Annotated[int, Depends(promotion_id)]

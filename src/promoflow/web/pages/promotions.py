"""Promotions: the list with its filters kept in the URL, and the calendar."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from promoflow.api import deps
from promoflow.console import service as console
from promoflow.console.schemas import CalendarBy, SearchFilters
from promoflow.kit.clock import utcnow
from promoflow.kit.db import reading
from promoflow.kit.errors import InvalidInput
from promoflow.promotions.states import STATES
from promoflow.web.access import PromotionsReader
from promoflow.web.templating import render

router = APIRouter()

PAGE = 50
Text = Annotated[str | None, Query(max_length=80)]


def _blank_is_none(value: str | None) -> str | None:
    return value.strip() or None if value else None


def _day(value: str | None, field: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InvalidInput(field, value, "give a date as YYYY-MM-DD") from None


@router.get("/promotions")
def promotions(
    request: Request,
    user: PromotionsReader,
    state: Text = None,
    category: Text = None,
    region: Text = None,
    banner: Text = None,
    launch_from: Text = None,
    launch_to: Text = None,
    risk: Annotated[Literal["", "yes", "no"], Query()] = "",
    q: Text = None,
    cursor: Annotated[str | None, Query(max_length=80)] = None,
) -> Response:
    """Every promotion the person's banners cover, filtered; 50 a page."""
    filters = SearchFilters(
        state=_blank_is_none(state),
        category=_blank_is_none(category),
        region=_blank_is_none(region),
        banner=_blank_is_none(banner),
        launch_from=_day(launch_from, "launch_from"),
        launch_to=_day(launch_to, "launch_to"),
        at_risk={"yes": True, "no": False}.get(risk),
        text=_blank_is_none(q),
    )
    with reading(deps.read_sessions()) as session:
        page = console.search_promotions(
            session, user.principal.banners, filters, cursor or None, PAGE, now=utcnow()
        )
    query = {key: value for key, value in request.query_params.items() if key != "cursor"}
    return render(
        request,
        "promotions.html",
        user=user,
        section="Promotions",
        page=page,
        filters=filters,
        risk=risk,
        states=STATES,
        query=query,
        filtered=any(value for value in query.values()),
    )


@router.get("/calendar")
def calendar(
    request: Request,
    user: PromotionsReader,
    by: Annotated[Literal["category", "region"], Query()] = "category",
    start: Text = None,
    weeks: Annotated[int, Query(ge=1, le=26)] = 8,
) -> Response:
    """Promotions by week x category (or region), coloured by state and readiness."""
    first = _day(start, "start") or utcnow().date() - timedelta(days=7)
    first -= timedelta(days=first.weekday())  # calendars start on Monday (ISO weeks)
    with reading(deps.read_sessions()) as session:
        view = console.calendar(session, user.principal.banners, first, weeks, CalendarBy(by))
    return render(
        request,
        "calendar.html",
        user=user,
        section="Calendar",
        view=view,
        start=first,
        weeks=weeks,
        earlier=first - timedelta(weeks=weeks),
        later=first + timedelta(weeks=weeks),
    )

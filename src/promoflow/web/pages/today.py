"""Today: what needs my decision, what is at risk this week, and the money at stake.

The sections refresh themselves (htmx polls `/today/sections` every 20 s), so a
lead who keeps the page open sees new approvals, cases and risks without a reload.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from promoflow.api import deps
from promoflow.console import service as console
from promoflow.console.schemas import TodayView
from promoflow.identity.sessions import SignedIn
from promoflow.kit.clock import utcnow
from promoflow.kit.db import reading
from promoflow.kit.roles import ROLES
from promoflow.web.access import PromotionsReader
from promoflow.web.templating import render

router = APIRouter()

RoleQuery = Annotated[str | None, Query(max_length=40, description="whose decisions")]


def _view(request: Request, user: SignedIn, role: str | None) -> TodayView:
    chosen = role if role in ROLES else user.principal.role.value
    with reading(deps.read_sessions()) as session:
        return console.today(
            session,
            user.principal.banners,
            chosen,
            utcnow(),
            currency=request.app.state.currency,
            rules=deps.approval_queue_rules(),
        )


@router.get("/")
def today(request: Request, user: PromotionsReader, role: RoleQuery = None) -> Response:
    """The operations lead's start page."""
    return render(
        request,
        "today.html",
        user=user,
        section="Today",
        view=_view(request, user, role),
        roles=ROLES,
    )


@router.get("/today/sections")
def today_sections(request: Request, user: PromotionsReader, role: RoleQuery = None) -> Response:
    """The page's live part, for htmx's polling."""
    return render(request, "today_sections.html", user=user, view=_view(request, user, role))

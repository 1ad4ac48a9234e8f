"""Today: what needs my decision, what is at risk this week, and the money at stake."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from promoflow.web.access import PromotionsReader
from promoflow.web.templating import render

router = APIRouter()


@router.get("/")
def today(request: Request, user: PromotionsReader) -> Response:
    """The operations lead's start page."""
    return render(request, "today.html", user=user, section="Today")

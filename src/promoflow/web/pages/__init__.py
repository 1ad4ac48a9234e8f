"""The console's pages, one module each; `build_console_router` gathers them."""

from __future__ import annotations

from fastapi import APIRouter

from promoflow.web.pages import (
    approvals,
    cases,
    cases_bulk,
    cases_detail,
    integrations,
    models,
    promotion_detail,
    promotions,
    sign_in,
    today,
)


def build_console_router() -> APIRouter:
    """Every console page and action (none appears in the API's OpenAPI document)."""
    router = APIRouter(include_in_schema=False)
    # A fixed path before a parameter at the same place: /cases/rows is not the case
    # numbered "rows".
    pages = (sign_in, today, promotions, promotion_detail, cases, cases_bulk, cases_detail)
    for module in (*pages, integrations, approvals, models):
        router.include_router(module.router)
    return router

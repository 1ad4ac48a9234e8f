"""The console's pages, one module each; `build_console_router` gathers them."""

from __future__ import annotations

from fastapi import APIRouter

from promoflow.web.pages import (
    cases,
    cases_bulk,
    cases_detail,
    integrations,
    sign_in,
    today,
)


def build_console_router() -> APIRouter:
    """Every console page and action (none appears in the API's OpenAPI document)."""
    router = APIRouter(include_in_schema=False)
    # cases before cases_detail: /cases/rows is not the case numbered "rows".
    for module in (sign_in, today, cases, cases_bulk, cases_detail, integrations):
        router.include_router(module.router)
    return router

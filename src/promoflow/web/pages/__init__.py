"""The console's pages, one module each; `build_console_router` gathers them."""

from __future__ import annotations

from fastapi import APIRouter

from promoflow.web.pages import promotion_detail, promotions, sign_in, today


def build_console_router() -> APIRouter:
    """Every console page and action (none appears in the API's OpenAPI document)."""
    router = APIRouter(include_in_schema=False)
    for module in (sign_in, today, promotions, promotion_detail):
        router.include_router(module.router)
    return router

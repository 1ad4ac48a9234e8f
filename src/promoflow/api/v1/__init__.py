"""Version 1 of the API: every route needs a credential and the access policy's leave."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from promoflow.api.auditing import audit_actor
from promoflow.api.auth import current_actor
from promoflow.api.permissions import enforce_access
from promoflow.api.problems import problem_responses
from promoflow.api.v1 import (
    analytics,
    approvals,
    audit,
    catalog,
    diagnostics,
    exceptions,
    governance,
    integration,
    postevent,
    promotion_analysis,
    promotions,
    recommendations,
    records,
)

PREFIX = "/api/v1"


def build_router() -> APIRouter:
    """All v1 routes behind the API-key check (no route can forget it).

    Every route may answer 401 (the key), 413 and 422 (the body, checked before
    any route reads it) and 503 (not ready); each route adds its own 403/404/409.
    """
    router = APIRouter(
        dependencies=[Depends(current_actor)],
        responses=problem_responses(401, 413, 422, 503),
    )
    router.dependencies.append(Depends(audit_actor))  # who calls, for the audit trail
    # The access policy (policies/access.yaml): 403 without the route's permission,
    # 404 for another banner's object, before the route reads anything.
    router.dependencies.append(Depends(enforce_access))
    router.include_router(promotions.router)
    router.include_router(records.router)
    router.include_router(promotion_analysis.router)
    router.include_router(postevent.router)
    router.include_router(approvals.router)
    router.include_router(exceptions.router)
    router.include_router(governance.router)
    router.include_router(recommendations.router)
    router.include_router(integration.router)
    router.include_router(diagnostics.router)
    router.include_router(catalog.router)
    router.include_router(audit.router)
    router.include_router(analytics.router)
    return router

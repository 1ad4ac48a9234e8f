"""Liveness and readiness probes (no API key: orchestrators call them)."""

from __future__ import annotations

import sqlalchemy as sa
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from promoflow.api.problems import problem_response, problem_responses, problem_type
from promoflow.kit.logging import get_logger
from promoflow.runtime import get_runtime

router = APIRouter(tags=["health"])
log = get_logger(__name__)


@router.get("/healthz")
def healthz() -> dict[str, str]:
    """The process is up and serving requests."""
    return {"status": "ok"}


@router.get("/readyz", response_model=None, responses=problem_responses(503))
def readyz(request: Request) -> dict[str, str] | JSONResponse:
    """The database answers; 503 problem details when it does not."""
    try:
        with get_runtime().engine.connect() as connection:
            connection.execute(sa.text("SELECT 1"))
    except Exception as error:  # any failure means "not ready"; the reason goes to the log
        log.warning("not_ready", error_type=type(error).__name__)
        return problem_response(
            503,
            "Not ready",
            "the database is not reachable",
            type_=problem_type("NotReady"),
            instance=request.url.path,
        )
    return {"status": "ready", "database": "ok"}

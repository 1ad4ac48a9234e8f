"""Liveness and readiness probes (no API key: orchestrators call them)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse

from promoflow.api.problems import problem_response, problem_responses, problem_type
from promoflow.executors.service import check_database
from promoflow.kit.logging import get_logger
from promoflow.runtime import get_runtime

router = APIRouter(tags=["health"])
log = get_logger(__name__)


def database_probe() -> Callable[[], None]:
    """Checks that the runtime's database answers; raises when it does not (or is not open).

    A callable rather than the engine, so that a runtime not (or no longer) open is
    "not ready" like an unreachable database, not a server error.
    """
    return lambda: check_database(get_runtime().engine)


DatabaseProbe = Annotated[Callable[[], None], Depends(database_probe)]


def event_bus_probe() -> Callable[[], None]:
    """Checks that the event bus takes events (NATS answers, when it is the bus)."""

    def check() -> None:
        bus = get_runtime().bus
        if bus is None:
            raise RuntimeError("the event bus is not started")
        bus.check()

    return check


EventBusProbe = Annotated[Callable[[], None], Depends(event_bus_probe)]


def _not_ready(request: Request, what: str) -> JSONResponse:
    return problem_response(
        503,
        "Not ready",
        f"{what} is not reachable",
        type_=problem_type("NotReady"),
        instance=request.url.path,
    )


@router.get("/healthz")
def healthz() -> dict[str, str]:
    """The process is up and serving requests."""
    return {"status": "ok"}


@router.get("/readyz", response_model=None, responses=problem_responses(503))
def readyz(
    request: Request, probe: DatabaseProbe, bus_probe: EventBusProbe
) -> dict[str, str] | JSONResponse:
    """The database and the event bus answer; 503 problem details naming the one that does not."""
    for what, check in (("the database", probe), ("the event bus", bus_probe)):
        try:
            check()
        except Exception as error:  # any failure means "not ready"; the reason goes to the log
            log.warning("not_ready", component=what, error=str(error)[:200])
            return _not_ready(request, what)
    return {"status": "ready", "database": "ok", "event_bus": "ok"}

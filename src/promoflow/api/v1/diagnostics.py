"""A connection's diagnostics: versions, health, last calls, settings with secrets redacted.

For operations_admin only: although nothing secret is in the answer, it shows
hosts, folders and the errors the systems returned, which is what the person who
runs the integrations needs and nobody else. `probe=true` also asks the system
for its version (one call out), like the CLI's `--probe`.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel

from promoflow.api.deps import SessionDep
from promoflow.api.permissions import Caller
from promoflow.api.problems import problem_responses
from promoflow.connectors import diagnostics as diagnosing
from promoflow.integration.service import NAME_PATTERN

router = APIRouter(tags=["integration"])

# access.yaml: `connections.diagnose` (operations_admin).
Diagnostician = Caller
ConnectionName = Annotated[str, Path(min_length=2, max_length=64, pattern=NAME_PATTERN.pattern)]


class CallOut(BaseModel):
    """One recorded call of the connection (never its payload)."""

    operation: str
    outcome: str
    attempts: int
    seconds: float
    at: str
    error_code: str | None
    error: str


class DiagnosticsOut(BaseModel):
    connection: str
    connector: str
    enabled: bool
    serves: list[str]
    generated_at: str
    versions: dict[str, str | None]
    speaks: str
    reported_version: str | None
    manifest: dict[str, Any]
    health: dict[str, Any]
    last_calls: list[CallOut]
    last_test: dict[str, Any]
    settings: dict[str, Any]
    secrets: dict[str, str]
    system: dict[str, Any]
    problems: list[str]


@router.get(
    "/connections/{name}/diagnostics",
    response_model=DiagnosticsOut,
    responses=problem_responses(403, 404),
)
def connection_diagnostics(
    name: ConnectionName,
    session: SessionDep,
    _actor: Diagnostician,
    probe: Annotated[bool, Query(description="also ask the system its version")] = False,
) -> DiagnosticsOut:
    """What to paste into a support ticket; secrets only ever as their reference."""
    found = diagnosing.diagnose(session, name, probe=probe)
    return DiagnosticsOut.model_validate(found.as_dict())

"""The audit log over HTTP, for auditors and operations administrators (read only)."""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import AwareDatetime, BeforeValidator

from promoflow.api.deps import OMITTABLE, OneOf, SessionDep
from promoflow.api.pagination import Pagination
from promoflow.api.permissions import Caller
from promoflow.api.problems import problem_responses
from promoflow.api.schemas import CursorPage
from promoflow.audit import service as audit_service
from promoflow.audit.schemas import AuditRecordOut, Outcome

router = APIRouter(prefix="/audit", tags=["audit"])

# Who may read it: access.yaml (`audit.read`: auditor, operations_admin; every banner).
AuditReader = Caller
ISO_DATE_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}")


def _iso_only(value: object) -> object:
    # Pydantic would read "0.5" as seconds after 1970: a time here is written out.
    if isinstance(value, str) and not ISO_DATE_TIME.match(value):
        raise ValueError("must be an ISO 8601 date-time with offset, e.g. 2026-12-01T00:00:00Z")
    return value


ISO_ONLY = BeforeValidator(_iso_only)
OUTCOMES = tuple(outcome.value for outcome in Outcome)


@router.get("", response_model=CursorPage[AuditRecordOut], responses=problem_responses(403))
def list_audit_records(
    session: SessionDep,
    _actor: AuditReader,
    page: Pagination,
    actor: Annotated[
        str | None, Query(max_length=200, description="actor name or subject"), OMITTABLE
    ] = None,
    object_type: Annotated[
        str | None, Query(max_length=60, description="e.g. promotion, approval_task"), OMITTABLE
    ] = None,
    object_ref: Annotated[
        str | None, Query(max_length=200, description="e.g. PRM-00042 or 17"), OMITTABLE
    ] = None,
    outcome: Annotated[
        str | None, Query(description="allowed or denied"), OneOf(OUTCOMES), OMITTABLE
    ] = None,
    request_id: Annotated[
        str | None, Query(max_length=128, description="the request's X-Request-ID"), OMITTABLE
    ] = None,
    since: Annotated[
        AwareDatetime | None,
        Query(description="records at or after (ISO 8601, with offset)"),
        ISO_ONLY,
        OMITTABLE,
    ] = None,
    until: Annotated[
        AwareDatetime | None,
        Query(description="records before (ISO 8601, with offset)"),
        ISO_ONLY,
        OMITTABLE,
    ] = None,
) -> CursorPage[AuditRecordOut]:
    """Audit records in chain order, filtered by actor, object, outcome and time.

    No total: counting a filtered log as long as this one would cost more than the page."""
    items = audit_service.records_page(
        session,
        after=page.after_id() or 0,
        limit=page.fetch,
        actor=actor,
        object_type=object_type,
        object_ref=object_ref,
        outcome=outcome,
        request_id=request_id,
        since=since,
        until=until,
    )
    return page.without_total(AuditRecordOut, items, key=lambda record: (record.sequence,))

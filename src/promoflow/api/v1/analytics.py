"""Process analytics over HTTP: the same reports as `promoflow analytics` (read only)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query
from pydantic import AwareDatetime

from promoflow.analytics import service as analytics_service
from promoflow.analytics.schemas import AnalyticsFilter
from promoflow.api.deps import OMITTABLE, SessionDep
from promoflow.api.permissions import Caller
from promoflow.api.problems import problem_responses
from promoflow.api.v1.audit import ISO_ONLY

router = APIRouter(prefix="/analytics", tags=["analytics"])

# Who may read them: access.yaml (`analytics.read`; every banner, as the log is the retailer's).
AnalyticsReader = Caller
Report = Literal[
    "flow", "variants", "stages", "approvals", "sla", "rework", "bottlenecks", "conformance"
]


@router.get("/{report}", responses=problem_responses(403))
def analytics_report(
    session: SessionDep,
    _actor: AnalyticsReader,
    report: Annotated[Report, Path(description="which report")],
    category: Annotated[
        str | None, Query(max_length=80, description="promotions of this category"), OMITTABLE
    ] = None,
    region: Annotated[
        str | None, Query(max_length=64, description="promotions with stores here"), OMITTABLE
    ] = None,
    banner: Annotated[
        str | None, Query(max_length=64, description="promotions with stores of it"), OMITTABLE
    ] = None,
    mechanic: Annotated[
        str | None, Query(max_length=16, description="e.g. percent_off"), OMITTABLE
    ] = None,
    since: Annotated[
        AwareDatetime | None,
        Query(description="revisions started at or after (ISO 8601, with offset)"),
        ISO_ONLY,
        OMITTABLE,
    ] = None,
    until: Annotated[
        AwareDatetime | None,
        Query(description="revisions started before (ISO 8601, with offset)"),
        ISO_ONLY,
        OMITTABLE,
    ] = None,
) -> dict[str, Any]:
    """One process-analytics report over the selected promotions' event log.

    Durations are business hours on each promotion's clock; unknown filter values
    answer 422 naming the filter."""
    selection = AnalyticsFilter(
        category=category, region=region, banner=banner, mechanic=mechanic, since=since, until=until
    )
    return analytics_service.report(session, report, selection)

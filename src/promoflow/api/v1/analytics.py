"""Process analytics over HTTP: the same reports as `promoflow analytics` (read only)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query
from pydantic import AwareDatetime

from promoflow.analytics import scorecard_service
from promoflow.analytics import service as analytics_service
from promoflow.analytics.schemas import MECHANICS, AnalyticsFilter
from promoflow.api.deps import OMITTABLE, OneOf, SessionDep
from promoflow.api.permissions import Caller
from promoflow.api.problems import problem_responses
from promoflow.api.v1.audit import ISO_ONLY

router = APIRouter(prefix="/analytics", tags=["analytics"])

# Who may read them: access.yaml (`analytics.read`; every banner, as the log is the retailer's).
AnalyticsReader = Caller

ABOUT = {
    "flow": "Directly-follows graph: which activity follows which, how often, how long.",
    "variants": "The distinct paths through the lifecycle's states, most frequent first.",
    "stages": "Cycle time per lifecycle stage, and waiting against working time.",
    "approvals": "Approval latency by role (ranked by waiting time) and by approver.",
    "sla": "SLA breach rate per approval role, against its SLA and the planned launch.",
    "rework": "Resubmissions, gates failing round after round, failed publications.",
    "bottlenecks": "Approval roles, gates and exception kinds ranked by hours waited on them.",
    "conformance": "Each revision against the lifecycle: skipped, repeated, out-of-order steps.",
}


def _selection(
    category: Annotated[
        str | None, Query(max_length=80, description="promotions of this category"), OMITTABLE
    ] = None,
    region: Annotated[
        str | None, Query(max_length=64, description="promotions with stores here"), OMITTABLE
    ] = None,
    banner: Annotated[
        str | None, Query(max_length=64, description="promotions with its stores"), OMITTABLE
    ] = None,
    mechanic: Annotated[
        str | None, Query(description="promotions of this mechanic"), OneOf(MECHANICS), OMITTABLE
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
) -> AnalyticsFilter:
    """The filters every analytics route takes, as query parameters."""
    return AnalyticsFilter(category, region, banner, mechanic, since, until)


Selection = Annotated[AnalyticsFilter, Depends(_selection)]


def _endpoint(name: str) -> Callable[..., dict[str, Any]]:
    def report(
        session: SessionDep, _actor: AnalyticsReader, selection: Selection
    ) -> dict[str, Any]:
        return analytics_service.report(session, name, selection)

    report.__name__ = f"analytics_{name}"
    # Durations are business hours on each promotion's clock (docs/process-analytics.md).
    report.__doc__ = ABOUT[name] + "\n\nDurations are business hours; unknown filters answer 422."
    return report


for _name in analytics_service.REPORTS:
    router.add_api_route(
        f"/{_name}",
        _endpoint(_name),
        methods=["GET"],
        summary=ABOUT[_name],
        responses=problem_responses(403),
    )


Period = Annotated[
    str,
    Query(description="group the figures per week or month"),
    OneOf(tuple(scorecard_service.PERIODS)),
    OMITTABLE,
]


@router.get(
    "/scorecard",
    summary="ROI scorecard per period: each figure with its numerator, denominator and drill link.",
    responses=problem_responses(403),
)
def analytics_scorecard(
    session: SessionDep, _actor: AnalyticsReader, selection: Selection, period: Period = "month"
) -> dict[str, Any]:
    """Cycle time, approval latency, launches fully ready, forecast accuracy, exceptions by
    kind, integration reliability, manual touches; what is not measured, and why."""
    return scorecard_service.report(session, selection, period)


@router.get(
    "/scorecard/{figure}",
    summary="What one scorecard figure counted, row by row, with the logged events behind it.",
    responses=problem_responses(403, 404),
)
def analytics_scorecard_figure(
    session: SessionDep,
    _actor: AnalyticsReader,
    figure: Annotated[str, Path(max_length=40, description="a figure of the scorecard")],
    selection: Selection,
    period: Period = "month",
) -> dict[str, Any]:
    """Each row the figure summed (period, group, revision, numerator, denominator) and its
    events (id, type, time, actor). A figure not measured answers 422 saying why; one
    that does not exist, 404."""
    return scorecard_service.drill_report(session, selection, figure, period)

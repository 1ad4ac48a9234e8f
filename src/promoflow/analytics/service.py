"""Process analytics, as the CLI and the API ask for them: checked filters, one report each."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from promoflow.analytics import bottlenecks, conformance, flow, latency, log, repository, timing
from promoflow.analytics.log import ProcessLog
from promoflow.analytics.rework import rework
from promoflow.analytics.schemas import AnalyticsFilter
from promoflow.kit.clock import utcnow
from promoflow.kit.errors import InvalidInput
from promoflow.promotions.models import MECHANICS


def _flow(process: ProcessLog) -> dict[str, Any]:
    return {
        "edges": flow.directly_follows(process),
        "activities": flow.activity_counts(process),
    }


def _stages(process: ProcessLog) -> dict[str, Any]:
    return {
        "stages": timing.stages(process),
        "cycle_time": timing.cycle_times(process),
        "waiting_vs_working": timing.waiting_and_working(process),
    }


def _approvals(process: ProcessLog) -> dict[str, Any]:
    return {"by_role": latency.by_role(process), "by_approver": latency.by_approver(process)}


def _sla(process: ProcessLog) -> dict[str, Any]:
    return {"by_role": latency.sla_by_role(process), "launch": timing.launch_deadlines(process)}


def _bottlenecks(process: ProcessLog) -> dict[str, Any]:
    return {
        "ranking": bottlenecks.ranking(process),
        "blocked_launches": bottlenecks.blocked_launches(process),
    }


REPORTS: dict[str, Callable[[ProcessLog], dict[str, Any]]] = {
    "flow": _flow,
    "variants": flow.variants,
    "stages": _stages,
    "approvals": _approvals,
    "sla": _sla,
    "rework": rework,
    "bottlenecks": _bottlenecks,
    "conformance": conformance.conformance,
}


def check_filter(session: Session, selection: AnalyticsFilter) -> None:
    """InvalidInput naming the filter whose value names nothing that exists."""
    if selection.mechanic is not None and selection.mechanic not in MECHANICS:
        raise InvalidInput(
            "mechanic", selection.mechanic, f"unknown mechanic; known: {', '.join(MECHANICS)}"
        )
    known = repository.known_values(session)
    for field in ("category", "region", "banner"):
        value = getattr(selection, field)
        if value is not None and value not in known[field]:
            listed = ", ".join(sorted(known[field])[:20]) or "none yet"
            raise InvalidInput(field, value, f"no such {field}; known: {listed}")
    if selection.since and selection.until and selection.since >= selection.until:
        raise InvalidInput("until", selection.until.isoformat(), "must come after --since / since")


def load(session: Session, selection: AnalyticsFilter, now: datetime | None = None) -> ProcessLog:
    """The selected promotions' event log as cases (filters checked first)."""
    check_filter(session, selection)
    events = repository.process_events(session, selection)
    promotions = repository.promotions(session, selection)
    return log.build(events, promotions, selection, now or utcnow())


def run(process: ProcessLog, name: str) -> dict[str, Any]:
    """One named report over an already loaded log, with the filter it answers for."""
    if name not in REPORTS:
        raise InvalidInput("report", name, f"unknown report; known: {', '.join(REPORTS)}")
    return {"report": name, "filter": process.selection.as_dict(), **REPORTS[name](process)}


def report(
    session: Session, name: str, selection: AnalyticsFilter, now: datetime | None = None
) -> dict[str, Any]:
    """Load the log for `selection` and run the report `name` over it."""
    if name not in REPORTS:
        raise InvalidInput("report", name, f"unknown report; known: {', '.join(REPORTS)}")
    return run(load(session, selection, now), name)

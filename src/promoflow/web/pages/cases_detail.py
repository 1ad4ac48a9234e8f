"""One exception case: what went wrong, its clock, its actions, and everything done to it.

The history is the audit trail's records of the case (who, when, what, why, and
what changed), written by the command every action goes through. A publication
failure also shows its publication's parts per channel, live.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from promoflow.api import deps
from promoflow.api.deps import IdPath
from promoflow.audit import service as audit_service
from promoflow.audit import snapshots
from promoflow.exceptions import service as exceptions_service
from promoflow.exceptions.schemas import CaseAction, CaseKind, CaseStatus
from promoflow.kit.db import reading
from promoflow.kit.roles import Role
from promoflow.promotions import service as promotions_service
from promoflow.promotions.states import PromotionState
from promoflow.publications import service as publications_service
from promoflow.publications.schemas import ChannelProgress, PublicationStatus
from promoflow.runtime import get_runtime
from promoflow.web.access import CasesReader
from promoflow.web.pages.cases import case_row
from promoflow.web.templating import render

router = APIRouter()

PUBLICATION_DONE = frozenset(
    {PublicationStatus.PUBLISHED, PublicationStatus.SKIPPED, PublicationStatus.REVERTED}
)


def history(session: Session, case: Any) -> list[dict[str, Any]]:
    """What people did to the case, oldest first: the audit trail's records of it."""
    records = audit_service.records_page(
        session, object_type=snapshots.object_type(case), object_ref=str(case.id), limit=500
    )
    entries = []
    for record in records:
        before, after = record.before or {}, record.after or {}
        changed = {
            key: (before.get(key), after[key])
            for key in sorted(after)
            if key in before and before.get(key) != after[key]
        }
        entries.append({"record": record, "changed": changed})
    return entries


def publication_progress(session: Session, case: Any) -> list[ChannelProgress]:
    """Each channel of a publication case's promotion, part by part (empty for other cases)."""
    if case.kind != CaseKind.CHANNEL_PUBLICATION_ERROR or case.promotion_id is None:
        return []
    promotion = promotions_service.get_promotion(session, case.promotion_id)
    size = get_runtime().settings.publication_part_size
    # Once decided, the parts count from the decision: what the retry has done so far.
    since = case.resolved_at if case.status != CaseStatus.OPEN else None
    return [
        publications_service.channel_progress(
            session, promotion, channel, part_size=size, since=since
        )
        for channel in promotion.channels
    ]


def failed_again(session: Session, case: Any) -> int | None:
    """A newer open publication case of the same promotion and channel, if one was raised."""
    newer = exceptions_service.list_cases(
        session,
        status=CaseStatus.OPEN,
        promotion_id=case.promotion_id,
        kind=CaseKind.CHANNEL_PUBLICATION_ERROR,
    )
    for other in newer:
        if other.id > case.id and other.linked.get("channel") == case.linked.get("channel"):
            return int(other.id)
    return None


def live(session: Session, case: Any, channels: list[ChannelProgress]) -> bool:
    """Whether the decided case's publication is still on its way (the progress polls).

    An open case waits for a person; a retry that failed again opened a new case;
    a cancelled promotion publishes nothing more.
    """
    if case.status == CaseStatus.OPEN or not channels:
        return False
    if not any(channel.status not in PUBLICATION_DONE for channel in channels):
        return False
    promotion = promotions_service.get_promotion(session, case.promotion_id)
    if promotion.status == PromotionState.CANCELLED:
        return False
    return failed_again(session, case) is None


def _case_values(request: Request, user: Any, case_id: int) -> dict[str, Any]:
    with reading(deps.read_sessions()) as session:
        case = exceptions_service.get_case(session, case_id, banners=user.principal.banners)
        channels = publication_progress(session, case)
        return {
            "user": user,
            "row": case_row(request, session, user.principal, case),
            "history": history(session, case),
            "channels": channels,
            "roles": tuple(Role),
            "live": live(session, case, channels),
            "poll": poll_every(session, case, channels),
        }


@router.get("/cases/{case_id}")
def case_detail(request: Request, user: CasesReader, case_id: IdPath, done: str = "") -> Response:
    """One case: what went wrong, its clock, its actions and everything done to it."""
    values = _case_values(request, user, case_id)
    notice = f"Done: {done.replace('_', ' ')}." if done in tuple(CaseAction) else ""
    return render(request, "cases_detail.html", section="Exceptions", notice=notice, **values)


@router.get("/cases/{case_id}/panel")
def case_panel(request: Request, user: CasesReader, case_id: IdPath) -> Response:
    """The case's body alone (refreshed after an action)."""
    return render(request, "cases_panel.html", **_case_values(request, user, case_id))


@router.get("/cases/{case_id}/publication")
def case_publication(request: Request, user: CasesReader, case_id: IdPath) -> Response:
    """The publication's parts per channel; htmx polls it until every channel is done."""
    with reading(deps.read_sessions()) as session:
        case = exceptions_service.get_case(session, case_id, banners=user.principal.banners)
        channels = publication_progress(session, case)
        running = live(session, case, channels)
        poll = poll_every(session, case, channels)
    return render(
        request,
        "cases_publication.html",
        user=user,
        case=case,
        channels=channels,
        live=running,
        poll=poll,
    )


def poll_every(session: Session, case: Any, channels: list[ChannelProgress]) -> str:
    """How often the parts refresh: 2 s while a decision runs, 10 s while the case waits
    (another person may decide it), never once nothing more can happen."""
    if live(session, case, channels):
        return "2s"
    return "10s" if channels and case.status == CaseStatus.OPEN else ""

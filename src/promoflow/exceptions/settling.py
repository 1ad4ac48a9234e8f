"""What happens to a promotion's open cases once it has ended.

A sell-through alert, a sales-feed outage or a launch block means nothing once the
promotion's window is over: those cases are resolved with the reason. A case about
something that outlives the promotion (a purchase order still to cancel) is handed
over: it stays open for its owner, but it no longer offers cancel_promotion, and no
case of an ended promotion accepts that action.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from promoflow.exceptions import repository, service
from promoflow.exceptions.models import ExceptionCase
from promoflow.exceptions.schemas import CaseAction, CaseKind, CaseStatus
from promoflow.promotions.models import Promotion

PROMOTION_ENDED = "promotion_ended"  # the resolution of a case its promotion outlived
# Cases about something that outlives the promotion; they stay with their owner.
HANDED_OVER_KINDS = frozenset({CaseKind.PURCHASE_ORDER_CANCELLATION})


def settle_promotion_cases(
    session: Session, promotion: Promotion, actor: str, now: datetime
) -> list[ExceptionCase]:
    """Resolve the ended promotion's open cases, or hand them over; returns those kept open."""
    kept = []
    for case in repository.list_cases(session, status=CaseStatus.OPEN, promotion_id=promotion.id):
        if case.kind in HANDED_OVER_KINDS:
            repository.lock(session, case)
            case.allowed_actions = [
                a for a in case.allowed_actions if a != CaseAction.CANCEL_PROMOTION
            ]
            kept.append(case)
            continue
        service.close_case(
            session,
            case,
            resolution=PROMOTION_ENDED,
            actor=actor,
            reason=f"{promotion.code} is {promotion.status}: this {case.kind} case no longer "
            "applies",
            now=now,
        )
    session.flush()
    return kept

"""The exception cases a workflow opens and waits on, as transactions (`runtime.run_tx`).

Every transaction keeps the name it was recorded under (DBOS names a transaction
after its function): `open_case`, `case_state`, `close_case_cleared`, `case_reminder`
moved here from `lifecycle.transactions` and a workflow in flight replays them.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from promoflow.events.log import record_event
from promoflow.exceptions import service as exceptions_service
from promoflow.exceptions import settling
from promoflow.exceptions.models import ExceptionCase
from promoflow.exceptions.schemas import CaseSpec
from promoflow.kit.clock import utcnow
from promoflow.lifecycle.schemas import CaseState
from promoflow.promotions import service as promotions_service
from promoflow.promotions.models import Promotion
from promoflow.promotions.states import PromotionState

SYSTEM = "system"
CLEARED = "cleared"


def open_promotion_case(session: Session, promotion: Promotion, spec: CaseSpec) -> ExceptionCase:
    """Open `spec` on the promotion, linked to its workflow (so a decision wakes it)."""
    return exceptions_service.open_case_from_spec(
        session, spec, promotion=promotion, workflow_id=promotion.workflow_id
    )


def open_case(session: Session, promotion_id: int, spec: CaseSpec) -> int:
    """Open a case for the workflow to wait on; `spec.hold` puts the promotion on hold."""
    promotion = promotions_service.get_promotion(session, promotion_id)
    case = open_promotion_case(session, promotion, spec)
    if spec.hold:
        promotions_service.transition(
            session, promotion, PromotionState.ON_HOLD, spec.title, data={"case_id": case.id}
        )
    return case.id


def case_state(session: Session, case_id: int) -> CaseState:
    """Where a case stands, read fresh after every wake-up."""
    case = exceptions_service.get_case(session, case_id)
    return {
        "status": case.status,
        "resolution": case.resolution,
        "resolved_by": case.resolved_by,
        "reason": case.resolution_reason or "",
    }


def close_case_cleared(session: Session, case_id: int, reason: str) -> None:
    """The condition behind a case cleared by itself (e.g. stock arrived): resolve it."""
    case = exceptions_service.get_case(session, case_id)
    exceptions_service.close_case(
        session, case, resolution=CLEARED, actor=SYSTEM, reason=reason, now=utcnow()
    )


def case_reminder(session: Session, case_id: int) -> None:
    """The case waited a full operator SLA without a decision: log a re-alert."""
    case = exceptions_service.get_case(session, case_id)
    record_event(
        session,
        "exception.reminded",
        f"exception/{case_id}",
        {"kind": case.kind, "owner_role": case.owner_role},
        promotion_id=case.promotion_id,
    )


def settle_cases(session: Session, promotion_id: int) -> int:
    """The window is over: resolve the cases that no longer apply, hand over the rest.

    Returns how many stay open (handed over, without cancel_promotion)."""
    promotion = promotions_service.get_promotion(session, promotion_id)
    return len(settling.settle_promotion_cases(session, promotion, SYSTEM, utcnow()))

"""Application commands: one transaction each, then a signal to the workflow.

The API, the CLI and the demo call these; they are the only place that both
commits and talks to DBOS, so every entry point behaves the same.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from dbos import DBOS, SetWorkflowID, WorkflowHandle
from sqlalchemy.orm import Session

from promoflow.allocation import service as allocation_service
from promoflow.approvals import service as approvals_service
from promoflow.approvals.models import ApprovalTask
from promoflow.audit import trail
from promoflow.exceptions import service as exceptions_service
from promoflow.exceptions.models import ExceptionCase
from promoflow.exceptions.schemas import CaseAction, CaseKind
from promoflow.gates import service as gates_service
from promoflow.gates.models import GateWaiver
from promoflow.identity.schemas import BannerScope
from promoflow.kit.clock import utcnow
from promoflow.kit.db import transaction
from promoflow.kit.errors import Conflict, InvalidInput, Unavailable
from promoflow.kit.preconditions import Precondition, check
from promoflow.lifecycle import signals
from promoflow.lifecycle.queue import lifecycle_queue
from promoflow.lifecycle.timing import clock_factor, plan_timing
from promoflow.promotions import revisions
from promoflow.promotions import service as promotions_service
from promoflow.promotions.models import Promotion
from promoflow.promotions.schemas import PromotionCreate, PromotionRevise
from promoflow.promotions.states import PromotionState
from promoflow.publications import service as publications_service
from promoflow.recommendations import service as recommendations_service
from promoflow.recommendations.models import Recommendation
from promoflow.runtime import get_runtime

S = PromotionState
# A revision past these has nothing left to compensate.
TOO_LATE_TO_CANCEL = (S.CLOSED, S.CANCELLED, S.REJECTED, S.ENDED, S.ANALYSED)


def create_promotion(
    data: PromotionCreate, actor: str, *, banners: BannerScope | None = None
) -> Promotion:
    """Create a draft; nothing is written if any field is refused.

    `banners`, the caller's scope, limits the stores it may name (see promotions.service).
    """
    with transaction(get_runtime().sessions) as session:
        promotion = promotions_service.create_promotion(session, data, actor, banners=banners)
        trail.record_change(session, "promotion.create", promotion, actor=actor)
        return promotion


def revise_promotion(
    promotion_id: int,
    changes: PromotionRevise,
    actor: str,
    role: str,
    *,
    banners: BannerScope | None = None,
    if_match: Precondition | None = None,
) -> Promotion:
    """Change a draft, or open a rejected promotion's next revision as a draft; no workflow
    runs for either, so there is nothing to wake. With `if_match`, only the version the
    client read is changed (checked under the row lock the revision takes)."""
    with transaction(get_runtime().sessions) as session:
        locked = promotions_service.get_promotion(session, promotion_id, for_update=True)
        _check_promotion(session, if_match, locked)
        return revisions.revise_promotion(
            session, promotion_id, changes, actor, role, banners=banners
        )


def submit_promotion(
    promotion_id: int,
    actor: str,
    *,
    launch_lead_hours: float | None = None,
    live_hours: float | None = None,
    if_match: Precondition | None = None,
) -> str:
    """Start the lifecycle workflow for the next revision; returns its workflow id.

    Starting the workflow *is* the submission: its first step records it exactly
    once, so a crash between "submitted" and "workflow started" cannot happen,
    and submitting the same revision twice starts one workflow, not two.
    """
    from promoflow.lifecycle.workflows import promotion_lifecycle

    runtime = get_runtime()
    with transaction(runtime.sessions) as session:
        # Locked only for a conditional request, whose check must hold until the commit.
        promotion = promotions_service.get_promotion(
            session, promotion_id, for_update=if_match is not None
        )
        _check_promotion(session, if_match, promotion)
        if promotion.status not in (PromotionState.DRAFT, PromotionState.REJECTED):
            raise Conflict(
                f"promotion {promotion.code} is {promotion.status}; only a draft or a "
                "rejected promotion can be submitted"
            )
        revision = promotion.revision + (1 if promotion.status == PromotionState.REJECTED else 0)
        timing = plan_timing(
            promotion.start_date,
            promotion.end_date,
            now=utcnow(),
            seconds_per_business_hour=runtime.settings.seconds_per_business_hour,
            launch_lead_hours=launch_lead_hours,
            live_hours=live_hours,
            clock=clock_factor(runtime.settings.clock),
        )
        workflow_id = promotions_service.workflow_id_for(promotion_id, revision)
        # The workflow's first step moves the state; this records who asked for it.
        trail.record_change(
            session,
            "promotion.submit",
            promotion,
            actor=actor,
            after={"submitted_revision": revision, "submitted_workflow_id": workflow_id},
        )
    arguments = (promotion_id, revision, actor, timing.as_dict())
    with SetWorkflowID(workflow_id):
        if runtime.settings.run_workflows:  # embedded: start here, at once
            DBOS.start_workflow(promotion_lifecycle, *arguments)
        else:  # an API-only serve: a worker takes it from the queue
            lifecycle_queue().enqueue(promotion_lifecycle, *arguments)
    return workflow_id


def decide_approval(
    task_id: int,
    actor: str,
    role: str,
    decision: Literal["approve", "reject"],
    comment: str = "",
    *,
    if_match: Precondition | None = None,
) -> ApprovalTask:
    """Record an approver's decision and wake the workflow."""
    with transaction(get_runtime().sessions) as session:
        # The task is locked first, as `decide` does, then checked against If-Match.
        check(if_match, approvals_service.get_task(session, task_id, for_update=True), "the task")
        task = approvals_service.decide(session, task_id, actor, role, decision, comment, utcnow())
        trail.record_change(
            session, f"approval.{decision}", task, actor=actor, role=role, reason=comment
        )
        workflow_id = promotions_service.workflow_id_for(task.promotion_id, task.revision)
    signals.notify(workflow_id, "approval", task_id=task_id)
    return task


def resolve_exception(
    case_id: int,
    action: str,
    actor: str,
    role: str,
    reason: str = "",
    assignee: str | None = None,
    new_owner_role: str | None = None,
    *,
    if_match: Precondition | None = None,
) -> ExceptionCase:
    """Act on an exception case (retry, waive, reassign, escalate, cancel) and wake the workflow."""
    with transaction(get_runtime().sessions) as session:
        linked_task = exceptions_service.linked_approval_task(session, case_id)
        if action == CaseAction.REASSIGN and linked_task is not None:
            # Lock order: the approval task before its case, as deciding the task does,
            # so a reassignment racing a decision waits instead of deadlocking.
            approvals_service.get_task(session, linked_task, for_update=True)
        locked = exceptions_service.get_case(session, case_id, for_update=True)
        check(if_match, locked, f"case {case_id}")
        case = exceptions_service.resolve_case(
            session,
            case_id,
            action=action,
            actor=actor,
            role=role,
            reason=reason,
            assignee=assignee,
            new_owner_role=new_owner_role,
            now=utcnow(),
        )
        task_id = case.linked.get("approval_task_id")
        if (
            action == CaseAction.REASSIGN
            and new_owner_role
            and case.kind == CaseKind.APPROVAL_OVERDUE
            and task_id is not None
        ):
            # The approval task follows its overdue case to the new owner.
            approvals_service.reassign_task(session, int(task_id), new_owner_role, actor, utcnow())
        trail.record_change(session, f"case.{action}", case, actor=actor, role=role, reason=reason)
    # Who and why travel with the signal: cancel_promotion ends the workflow wherever it waits.
    signals.notify(
        case.workflow_id, "exception", case_id=case_id, action=action, actor=actor, reason=reason
    )
    return case


def decide_recommendation(
    recommendation_id: int,
    decision: Literal["accept", "edit", "reject"],
    actor: str,
    role: str,
    *,
    reason: str = "",
    changes: Mapping[int, float] | None = None,
    if_match: Precondition | None = None,
) -> Recommendation:
    """A planner accepts, edits (line id -> units) or rejects a recommendation; the workflow wakes.

    Only the current revision's open recommendation of a running promotion can be
    decided; edited quantities must be whole case packs, and an allocation may not
    ship more than the DC can.
    """
    with transaction(get_runtime().sessions) as session:
        locked = recommendations_service.get_recommendation(
            session, recommendation_id, for_update=True
        )
        check(if_match, locked, f"recommendation {recommendation_id}")
        recommendation = allocation_service.decide(
            session, recommendation_id, decision, actor, role, reason, changes or {}, utcnow()
        )
        edited = {"edited_lines": {str(k): v for k, v in (changes or {}).items()}}
        trail.record_change(
            session,
            f"recommendation.{decision}",
            recommendation,
            actor=actor,
            role=role,
            reason=reason,
            after=edited if decision == "edit" else None,
        )
        workflow_id = promotions_service.workflow_id_for(
            recommendation.promotion_id, recommendation.revision
        )
    signals.notify(workflow_id, "recommendation", recommendation_id=recommendation_id)
    return recommendation


def waive_gate(
    promotion_id: int,
    gate: str,
    actor: str,
    role: str,
    reason: str,
    *,
    if_match: Precondition | None = None,
) -> GateWaiver:
    """Waive one launch gate for the current revision, by an authorised role, with a reason."""
    with transaction(get_runtime().sessions) as session:
        promotion = _conditional_promotion(session, promotion_id, if_match)
        waiver = gates_service.waive_gate(session, promotion, gate, actor, role, reason)
        trail.record_change(session, "gate.waive", waiver, actor=actor, role=role, reason=reason)
        workflow_id = promotion.workflow_id
    signals.notify(workflow_id, "gates", gate=gate)
    return waiver


def confirm_store_tasks(
    promotion_id: int,
    location_codes: list[str] | None,
    actor: str,
    *,
    if_match: Precondition | None = None,
) -> int:
    """Store operations confirm readiness tasks (all open ones when no codes are given)."""
    with transaction(get_runtime().sessions) as session:
        promotion = _conditional_promotion(session, promotion_id, if_match)
        confirmed = publications_service.confirm_store_tasks(
            session, promotion, location_codes, actor
        )
        trail.record_change(
            session,
            "store_tasks.confirm",
            promotion,
            actor=actor,
            after={"confirmed_tasks": confirmed, "locations": location_codes or "all open"},
        )
        workflow_id = promotion.workflow_id
    signals.notify(workflow_id, "gates")
    return confirmed


def _check_promotion(session: Session, if_match: Precondition | None, promotion: Promotion) -> None:
    if if_match is not None:
        if_match.check(
            promotions_service.promotion_tag(session, promotion), f"promotion {promotion.code}"
        )


def _conditional_promotion(
    session: Session, promotion_id: int, if_match: Precondition | None
) -> Promotion:
    """The promotion, checked against If-Match when given: then locked, so that the version
    the client saw is the one current when the change commits."""
    promotion = promotions_service.get_promotion(
        session, promotion_id, for_update=if_match is not None
    )
    _check_promotion(session, if_match, promotion)
    return promotion


def cancel_promotion(
    promotion_id: int,
    actor: str,
    role: str,
    reason: str,
    *,
    if_match: Precondition | None = None,
) -> Promotion:
    """Cancel: a draft directly (its requester or operations_admin); a running promotion
    through its workflow (which compensates)."""
    if not reason.strip():
        raise InvalidInput("reason", reason, "cancelling a promotion needs a reason")
    with transaction(get_runtime().sessions) as session:
        # Locked, so a submission at the same instant either wins or sees the draft cancelled.
        promotion = promotions_service.get_promotion(session, promotion_id, for_update=True)
        _check_promotion(session, if_match, promotion)
        if promotion.status == PromotionState.DRAFT:
            cancelled = promotions_service.cancel_draft(session, promotion, actor, role, reason)
            trail.record_change(
                session, "promotion.cancel", cancelled, actor=actor, role=role, reason=reason
            )
            return cancelled
        if promotion.status in TOO_LATE_TO_CANCEL:
            raise Conflict(f"promotion {promotion.code} is {promotion.status}; too late to cancel")
        promotions_service.ensure_may_cancel(promotion, actor, role)
        # The workflow cancels and compensates; this records who asked, and why.
        trail.record_change(
            session,
            "promotion.cancel",
            promotion,
            actor=actor,
            role=role,
            reason=reason,
            after={"cancellation": "requested of the running lifecycle"},
        )
    # The request is only this message to the workflow, which cancels and compensates
    # wherever it waits: one that was not delivered must not look accepted.
    if not signals.notify(promotion.workflow_id, "cancel", actor=actor, role=role, reason=reason):
        raise Unavailable(
            f"the lifecycle of promotion {promotion.code} did not take the cancellation; "
            "nothing was changed; try again",
            workflow_id=promotion.workflow_id,
        )
    return promotion


def workflow_status(workflow_id: str) -> dict[str, Any] | None:
    """DBOS's view of one lifecycle workflow (status, executor, times)."""
    handle: WorkflowHandle[str] = DBOS.retrieve_workflow(workflow_id)
    status = handle.get_status()
    return {
        "workflow_id": workflow_id,
        "status": status.status,
        "executor_id": status.executor_id,
        "created_at": status.created_at,
        "updated_at": status.updated_at,
    }

"""Approval tasks: open, decide, remind, escalate, expire. Never commits.

The lifecycle workflow owns the timers (DBOS.recv with the SLA as timeout) and
calls these functions in its transactional steps; each records its event in the
caller's transaction. remind, escalate and expire do nothing on a task that is no
longer pending (or already reminded/escalated), so a re-run step is harmless.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from promoflow.approvals import repository
from promoflow.approvals.matrix import RequiredApproval
from promoflow.approvals.models import ApprovalTask
from promoflow.approvals.schemas import DECISIONS as DECISIONS  # re-exported
from promoflow.approvals.schemas import ApprovalStatus as ApprovalStatus  # re-exported
from promoflow.approvals.schemas import Decision as Decision  # re-exported
from promoflow.approvals.schemas import TaskStatus
from promoflow.events.log import record_event
from promoflow.exceptions import service as exceptions_service
from promoflow.exceptions.schemas import (
    BLOCK_ACTIONS,
    CaseAction,
    CaseKind,
    CaseSpec,
    CaseStatus,
    Severity,
)
from promoflow.identity.schemas import BannerScope
from promoflow.kit.errors import Conflict, Forbidden, InvalidInput, NotFound, OutOfScope
from promoflow.kit.identity import same_person
from promoflow.kit.roles import ROLES, Role
from promoflow.promotions import service as promotions_service
from promoflow.promotions.models import Promotion

# An overdue approval is a block: reassign it, escalate it, or cancel the promotion.
OVERDUE_ACTIONS: tuple[CaseAction, ...] = BLOCK_ACTIONS
PRODUCTION_SECONDS_PER_BUSINESS_HOUR = 3600.0


def _subject(task: ApprovalTask) -> str:
    return f"approval/{task.id}"


def _promotion(session: Session, task: ApprovalTask) -> Promotion:
    promotion = repository.promotion_of(session, task)
    if promotion is None:  # the foreign key makes this unreachable short of corruption
        raise NotFound(f"promotion {task.promotion_id} of approval task {task.id} is missing")
    return promotion


def open_approval_tasks(
    session: Session,
    promotion: Promotion,
    required: list[RequiredApproval],
    now: datetime,
    *,
    seconds_per_business_hour: float = PRODUCTION_SECONDS_PER_BUSINESS_HOUR,
) -> list[ApprovalTask]:
    """One pending task per required role for the promotion's current revision.

    `due_at` is `now` plus the SLA in wall-clock time (sla_hours x
    seconds_per_business_hour); `sla_hours` is stored as given. A role that already
    has a task on this revision keeps it, so a re-run opens no twins.
    """
    if seconds_per_business_hour <= 0:
        raise InvalidInput("seconds_per_business_hour", seconds_per_business_hour, "must be > 0")
    existing = {
        task.role: task
        for task in repository.tasks_for_revision(session, promotion.id, promotion.revision)
    }
    tasks: list[ApprovalTask] = []
    for need in required:
        if need.role in existing:
            tasks.append(existing[need.role])
            continue
        due_at = now + timedelta(seconds=need.sla_hours * seconds_per_business_hour)
        task = ApprovalTask(
            promotion_id=promotion.id,
            revision=promotion.revision,
            role=need.role,
            assigned_role=need.role,
            reason="; ".join(need.reasons),
            status=TaskStatus.PENDING,
            sla_hours=need.sla_hours,
            due_at=due_at,
            comment="",
            created_at=now,
        )
        session.add(task)
        session.flush()
        record_event(
            session,
            "approval.requested",
            _subject(task),
            {
                "task_id": task.id,
                "code": promotion.code,
                "revision": promotion.revision,
                "role": need.role,
                "reasons": need.reasons,
                "rules": need.rules,
                "sla_hours": need.sla_hours,
                "due_at": due_at.isoformat(),
                "policy_version": need.policy_version,
            },
            promotion_id=promotion.id,
        )
        tasks.append(task)
    return tasks


def get_task(
    session: Session,
    task_id: int,
    *,
    for_update: bool = False,
    banners: BannerScope | None = None,
) -> ApprovalTask:
    """One approval task by id, or NotFound; `for_update` holds its row lock (see repository).

    With `banners`, a task of a promotion outside them is answered as a missing one.
    """
    task = repository.get_task(session, task_id, for_update=for_update)
    missing = f"approval task {task_id} does not exist"
    if task is None:
        raise NotFound(missing, task_id=task_id)
    if banners is not None and not promotions_service.within_banners(
        session, task.promotion_id, banners
    ):
        raise OutOfScope(missing, task_id=task_id)
    return task


def decide(
    session: Session,
    task_id: int,
    actor: str,
    role: str,
    decision: Decision,
    comment: str,
    now: datetime,
) -> ApprovalTask:
    """Approve or reject a pending task, enforcing role and segregation of duties.

    The task's row is locked before it is read, so of two people deciding at once the
    second sees the first's decision and gets a Conflict naming who decided.
    """
    task = get_task(session, task_id, for_update=True)
    promotion = check_decider(session, task, actor, role)
    if decision not in DECISIONS:
        raise InvalidInput("decision", decision, "must be approve or reject")
    comment = comment.strip()
    if decision == "reject" and not comment:
        raise InvalidInput("comment", comment, "a rejection needs a comment saying what to change")
    task.status = TaskStatus.APPROVED if decision == "approve" else TaskStatus.REJECTED
    task.decided_by = actor
    task.decided_at = now
    task.comment = comment
    session.flush()
    record_event(
        session,
        "approval.decided",
        _subject(task),
        {
            "task_id": task.id,
            "code": promotion.code,
            "revision": task.revision,
            "role": task.role,
            "acting_role": role,
            "decision": task.status,
            "comment": comment,
        },
        promotion_id=task.promotion_id,
        actor=actor,
    )
    _close_overdue_cases(session, task, actor, now)
    return task


def check_decider(session: Session, task: ApprovalTask, actor: str, role: str) -> Promotion:
    """What `decide` checks before it decides, and the task's promotion when all hold.

    Conflict when the task is no longer pending; Forbidden when `role` is not the one
    it is assigned to, or segregation of duties keeps `actor` from it.
    """
    if task.status != TaskStatus.PENDING:
        raise Conflict(
            f"approval task {task.id} ({task.role}) is already {task.status}"
            + (f" by {task.decided_by}" if task.decided_by else "")
            + "; only a pending task can be decided",
            status=task.status,
        )
    if role != task.assigned_role:
        raise Forbidden(
            f"approval task {task.id} is assigned to {task.assigned_role}; "
            f"role {role} may not decide it",
            role=role,
            assigned_role=task.assigned_role,
        )
    promotion = _promotion(session, task)
    _check_segregation(session, task, promotion, actor)
    return promotion


def decision_refusal(
    session: Session,
    task_id: int,
    actor: str,
    role: str,
    *,
    banners: BannerScope | None = None,
) -> str | None:
    """Why `actor` acting as `role` may not decide the task now, in `decide`'s own words;
    None when they may. Decides nothing: a bulk approval's preview asks it of each task."""
    try:
        check_decider(session, get_task(session, task_id, banners=banners), actor, role)
    except (NotFound, Conflict, Forbidden) as refused:
        return refused.message
    return None


def _check_segregation(
    session: Session, task: ApprovalTask, promotion: Promotion, actor: str
) -> None:
    # People, not spellings: `Mia.Merch` is the requester `mia.merch` (kit.identity).
    if same_person(actor, promotion.requested_by):
        raise Forbidden(
            f"requester {actor} may not approve their own promotion {promotion.code}"
            + _spelt(actor, promotion.requested_by),
            actor=actor,
        )
    for author in promotions_service.authors_of_revision(session, promotion):
        if same_person(actor, author):
            raise Forbidden(
                f"{actor} revised promotion {promotion.code} (revision {promotion.revision})"
                f"{_spelt(actor, author)} and may not approve the revision they made",
                actor=actor,
            )
    for other in repository.decided_tasks(session, task.promotion_id):
        if other.role != task.role and same_person(actor, other.decided_by):
            raise Forbidden(
                f"{actor} already decided the {other.role} approval on {promotion.code} "
                f"(revision {other.revision}){_spelt(actor, other.decided_by)}; one person "
                f"may not fill two roles on one promotion, so the {task.role} approval needs "
                "someone else",
                actor=actor,
                other_role=other.role,
            )


def _spelt(actor: str, recorded: str | None) -> str:
    """Say how the record spells the person when the actor's spelling differs."""
    return f" (recorded as {recorded})" if recorded is not None and recorded != actor else ""


def _close_overdue_cases(session: Session, task: ApprovalTask, actor: str, now: datetime) -> None:
    cases = exceptions_service.list_cases(
        session,
        status=CaseStatus.OPEN,
        promotion_id=task.promotion_id,
        kind=CaseKind.APPROVAL_OVERDUE,
    )
    for case in cases:
        if case.linked.get("approval_task_id") == task.id:
            exceptions_service.close_case(
                session,
                case,
                resolution="approval_decided",
                actor=actor,
                reason=f"{task.role} approval {task.status} by {actor}",
                now=now,
            )


def remind(session: Session, task: ApprovalTask, now: datetime) -> ApprovalTask:
    """Record a reminder to the assigned role (once; nothing if no longer pending)."""
    repository.lock(session, task)
    if task.status != TaskStatus.PENDING or task.reminded_at is not None:
        return task
    task.reminded_at = now
    session.flush()
    record_event(
        session,
        "approval.reminded",
        _subject(task),
        {
            "task_id": task.id,
            "revision": task.revision,
            "role": task.role,
            "assigned_role": task.assigned_role,
            "due_at": task.due_at.isoformat(),
        },
        promotion_id=task.promotion_id,
    )
    return task


def escalate(
    session: Session, task: ApprovalTask, escalate_to_role: str, now: datetime
) -> ApprovalTask:
    """Move an overdue task to the escalation role and open an approval_overdue case."""
    if escalate_to_role not in ROLES:
        raise InvalidInput(
            "escalate_to_role", escalate_to_role, f"unknown role; known: {', '.join(ROLES)}"
        )
    # Locked and re-read: a decision committed meanwhile wins, and nothing escalates.
    repository.lock(session, task)
    if task.status != TaskStatus.PENDING or task.escalated_at is not None:
        return task
    promotion = _promotion(session, task)
    previous = task.assigned_role
    task.assigned_role = escalate_to_role
    task.escalated_at = now
    session.flush()
    spec = CaseSpec(
        kind=CaseKind.APPROVAL_OVERDUE,
        severity=Severity.HIGH,
        owner_role=Role(escalate_to_role),
        title=f"{task.role} approval of {promotion.code} is past its {task.sla_hours:g} h SLA",
        detail=(
            f"Approval task {task.id} was due {task.due_at.isoformat()} and is still "
            f"pending. It is now assigned to {escalate_to_role}. Reason it was "
            f"required: {task.reason}"
        ),
        allowed_actions=OVERDUE_ACTIONS,
        linked={
            "approval_task_id": task.id,
            "promotion_id": promotion.id,
            "revision": task.revision,
        },
    )
    case = exceptions_service.open_case_from_spec(
        session, spec, promotion=promotion, workflow_id=promotion.workflow_id, now=now
    )
    record_event(
        session,
        "approval.escalated",
        _subject(task),
        {
            "task_id": task.id,
            "revision": task.revision,
            "role": task.role,
            "from_role": previous,
            "to_role": escalate_to_role,
            "case_id": case.id,
        },
        promotion_id=task.promotion_id,
    )
    return task


def expire(session: Session, task: ApprovalTask, now: datetime, reason: str = "") -> ApprovalTask:
    """Mark a still-pending task expired (nothing if it was decided meanwhile)."""
    # Locked and re-read, so a decision committed a moment ago is never overwritten.
    repository.lock(session, task)
    if task.status != TaskStatus.PENDING:
        return task
    task.status = TaskStatus.EXPIRED
    if reason:
        task.comment = reason
    session.flush()
    record_event(
        session,
        "approval.expired",
        _subject(task),
        {
            "task_id": task.id,
            "revision": task.revision,
            "role": task.role,
            "assigned_role": task.assigned_role,
            "at": now.isoformat(),
            "reason": reason or "no decision before the approval expired",
        },
        promotion_id=task.promotion_id,
    )
    return task


def withdraw_pending(
    session: Session, promotion_id: int, revision: int, reason: str, now: datetime
) -> list[ApprovalTask]:
    """Expire every pending task of a revision that no longer needs a decision (e.g. rejected)."""
    withdrawn: list[ApprovalTask] = []
    for task in repository.tasks_for_revision(session, promotion_id, revision):
        # Locked before the status is read: a decision committed meanwhile stays.
        if repository.lock(session, task).status == TaskStatus.PENDING:
            withdrawn.append(expire(session, task, now, reason))
    return withdrawn


def reassign_task(
    session: Session, task_id: int, role: str, actor: str, now: datetime
) -> ApprovalTask:
    """Route a pending task to another role (e.g. when its overdue case is reassigned)."""
    if role not in ROLES:
        raise InvalidInput("role", role, f"unknown role; known: {', '.join(ROLES)}")
    task = get_task(session, task_id, for_update=True)
    if task.status != TaskStatus.PENDING:
        raise Conflict(
            f"approval task {task.id} is {task.status}"
            + (f" by {task.decided_by}" if task.decided_by else "")
            + "; only a pending task can be reassigned",
            status=task.status,
        )
    previous = task.assigned_role
    task.assigned_role = role
    session.flush()
    record_event(
        session,
        "approval.reassigned",
        _subject(task),
        {
            "task_id": task.id,
            "revision": task.revision,
            "role": task.role,
            "from_role": previous,
            "to_role": role,
            "at": now.isoformat(),
        },
        promotion_id=task.promotion_id,
        actor=actor,
    )
    return task


def approval_status(session: Session, promotion_id: int, revision: int) -> ApprovalStatus:
    """The tasks of one revision grouped by status; the workflow reads this after each wake-up."""
    tasks = list(repository.tasks_for_revision(session, promotion_id, revision))

    def having(status: str) -> list[ApprovalTask]:
        return [task for task in tasks if task.status == status]

    approved = having(TaskStatus.APPROVED)
    return ApprovalStatus(
        tasks=tasks,
        pending=having(TaskStatus.PENDING),
        approved=approved,
        rejected=having(TaskStatus.REJECTED),
        expired=having(TaskStatus.EXPIRED),
        all_approved=len(approved) == len(tasks),
    )


def pending_tasks_for(session: Session, role: str | None = None) -> Sequence[ApprovalTask]:
    """Pending tasks, soonest due first; with a role, only those assigned to it."""
    if role is not None and role not in ROLES:
        raise InvalidInput("role", role, f"unknown role; known: {', '.join(ROLES)}")
    return repository.pending_tasks(session, role)


def tasks_for_revision(
    session: Session, promotion_id: int, revision: int
) -> Sequence[ApprovalTask]:
    """Every approval task of one promotion revision, pending and decided, oldest first."""
    return repository.tasks_for_revision(session, promotion_id, revision)

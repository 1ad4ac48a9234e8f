"""Open exception cases and act on them. Never commits; events ride the caller's transaction.

A case stops a workflow until a person decides: retry, waive (with a reason) and
cancel_promotion resolve it; reassign and escalate keep it open with a new owner.
The caller wakes the waiting workflow (DBOS.send) after committing.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from promoflow.events.log import record_event
from promoflow.exceptions import repository
from promoflow.exceptions.models import ExceptionCase
from promoflow.exceptions.schemas import (
    ACTIONS_NEEDING_REASON,
    CaseAction,
    CaseKind,
    CaseSpec,
    CaseStatus,
    Severity,
)
from promoflow.identity.schemas import BannerScope
from promoflow.kit.clock import utcnow
from promoflow.kit.errors import Conflict, Forbidden, InvalidInput, NotFound, OutOfScope
from promoflow.kit.roles import ROLES, Role
from promoflow.promotions import service as promotions_service
from promoflow.promotions.models import Promotion
from promoflow.promotions.states import PromotionState

SEVERITIES: tuple[str, ...] = tuple(Severity)
CASE_STATUSES: tuple[str, ...] = tuple(CaseStatus)
CASE_KINDS: tuple[str, ...] = tuple(CaseKind)
CASE_ACTIONS: tuple[str, ...] = tuple(CaseAction)
ADMIN_ROLE = Role.OPERATIONS_ADMIN
_S = PromotionState
# Past these states there is nothing left to cancel.
NOT_CANCELLABLE = frozenset({_S.ENDED, _S.ANALYSED, _S.CLOSED, _S.CANCELLED, _S.REJECTED})


def _subject(case: ExceptionCase) -> str:
    return f"exception/{case.id}"


def _check_choice(field: str, value: str, allowed: Sequence[str]) -> None:
    if value not in allowed:
        raise InvalidInput(field, value, f"must be one of {', '.join(allowed)}")


def open_case(
    session: Session,
    *,
    kind: str,
    severity: str,
    owner_role: str,
    title: str,
    detail: str,
    promotion: Promotion | None,
    linked: dict[str, Any],
    allowed_actions: list[str],
    workflow_id: str | None,
    now: datetime | None = None,
) -> ExceptionCase:
    """Open a typed case owned by a role; the event is logged in the same transaction."""
    _check_choice("kind", kind, CASE_KINDS)
    _check_choice("severity", severity, SEVERITIES)
    _check_choice("owner_role", owner_role, ROLES)
    if not title.strip():
        raise InvalidInput("title", title, "give a short title that says what went wrong")
    if not allowed_actions:
        raise InvalidInput("allowed_actions", allowed_actions, "name at least one action")
    for index, action in enumerate(allowed_actions):
        _check_choice(f"allowed_actions[{index}]", action, CASE_ACTIONS)
    if len(set(allowed_actions)) != len(allowed_actions):
        raise InvalidInput("allowed_actions", allowed_actions, "lists an action twice")
    case = ExceptionCase(
        kind=kind,
        severity=severity,
        status=CaseStatus.OPEN,
        owner_role=owner_role,
        promotion_id=promotion.id if promotion is not None else None,
        revision=promotion.revision if promotion is not None else None,
        workflow_id=workflow_id,
        title=title.strip(),
        detail=detail,
        linked=dict(linked),
        allowed_actions=list(allowed_actions),
        opened_at=now or utcnow(),
    )
    session.add(case)
    session.flush()
    record_event(
        session,
        "exception.opened",
        _subject(case),
        {
            "case_id": case.id,
            "kind": kind,
            "severity": severity,
            "owner_role": owner_role,
            "title": case.title,
            "linked": case.linked,
            "allowed_actions": case.allowed_actions,
            "workflow_id": workflow_id,
        },
        promotion_id=case.promotion_id,
    )
    return case


def open_case_from_spec(
    session: Session,
    spec: CaseSpec,
    *,
    promotion: Promotion | None,
    workflow_id: str | None,
    now: datetime | None = None,
) -> ExceptionCase:
    """`open_case` for a CaseSpec; putting the promotion on hold (`spec.hold`) is the caller's."""
    return open_case(
        session,
        kind=spec.kind,
        severity=spec.severity,
        owner_role=spec.owner_role,
        title=spec.title,
        detail=spec.detail,
        promotion=promotion,
        linked=spec.linked,
        allowed_actions=list(spec.allowed_actions),
        workflow_id=workflow_id,
        now=now,
    )


def get_case(
    session: Session,
    case_id: int,
    *,
    for_update: bool = False,
    banners: BannerScope | None = None,
) -> ExceptionCase:
    """One case by id, or NotFound; `for_update` holds its row lock (see repository).

    With `banners`, a case the scope may not see (of a promotion outside them, or of no
    promotion unless the scope is every banner) is answered as a missing one.
    """
    case = repository.get(session, case_id, for_update=for_update)
    missing = f"exception case {case_id} does not exist"
    if case is None:
        raise NotFound(missing, case_id=case_id)
    if banners is not None and not (
        banners.every
        if case.promotion_id is None
        else promotions_service.within_banners(session, case.promotion_id, banners)
    ):
        raise OutOfScope(missing, case_id=case_id)
    return case


def linked_approval_task(session: Session, case_id: int) -> int | None:
    """The approval task an approval_overdue case is about, if any (no lock taken)."""
    return repository.linked_approval_task(session, case_id)


def list_cases(
    session: Session,
    status: str | None = None,
    owner_role: str | None = None,
    promotion_id: int | None = None,
    kind: str | None = None,
    *,
    banners: BannerScope | None = None,
) -> Sequence[ExceptionCase]:
    """Cases matching every filter given, most recent first; with `banners`, only those
    the caller's banner scope may see (see repository.list_cases)."""
    if status is not None:
        _check_choice("status", status, CASE_STATUSES)
    if owner_role is not None:
        _check_choice("owner_role", owner_role, ROLES)
    if kind is not None:
        _check_choice("kind", kind, CASE_KINDS)
    return repository.list_cases(
        session,
        status=status,
        owner_role=owner_role,
        promotion_id=promotion_id,
        kind=kind,
        banners=banners,
    )


def resolve_case(
    session: Session,
    case_id: int,
    *,
    action: str,
    actor: str,
    role: str,
    reason: str = "",
    assignee: str | None = None,
    new_owner_role: str | None = None,
    now: datetime,
) -> ExceptionCase:
    """Apply a person's decision to an open case; see the module docstring for the actions.

    The case's row is locked before it is read: of two people acting at once, the
    second sees the first's resolution and gets a Conflict naming who resolved it.
    """
    case = get_case(session, case_id, for_update=True)
    if case.status != CaseStatus.OPEN:
        raise Conflict(
            f"exception case {case.id} is {case.status} ({case.resolution} by "
            f"{case.resolved_by}); only an open case can be acted on",
            status=case.status,
        )
    if role not in (case.owner_role, ADMIN_ROLE):
        raise Forbidden(
            f"role {role} may not act on exception case {case.id}; it is owned by "
            f"{case.owner_role} (or {ADMIN_ROLE})",
            role=role,
            owner_role=case.owner_role,
        )
    if action not in case.allowed_actions:
        raise InvalidInput(
            "action",
            action,
            f"not allowed on this {case.kind} case; allowed: {', '.join(case.allowed_actions)}",
        )
    if action == CaseAction.CANCEL_PROMOTION:
        _check_cancellable(session, case)
    reason = reason.strip()
    if action in ACTIONS_NEEDING_REASON and not reason:
        raise InvalidInput("reason", reason, f"{action} needs a reason for the audit trail")
    if action == CaseAction.REASSIGN:
        return _reassign(session, case, actor, reason, assignee, new_owner_role)
    if action == CaseAction.ESCALATE:
        return _escalate(session, case, actor, reason)
    return _resolve(session, case, action, actor, reason, now)


def _check_cancellable(session: Session, case: ExceptionCase) -> None:
    """No case offers cancel_promotion once its promotion has ended (or will never run)."""
    if case.promotion_id is None:
        return
    promotion = promotions_service.get_promotion(session, case.promotion_id)
    if promotion.status in NOT_CANCELLABLE:
        raise Conflict(
            f"promotion {promotion.code} is {promotion.status}; exception case {case.id} can "
            "no longer cancel it",
            status=promotion.status,
        )


def _reassign(
    session: Session,
    case: ExceptionCase,
    actor: str,
    reason: str,
    assignee: str | None,
    new_owner_role: str | None,
) -> ExceptionCase:
    assignee = assignee.strip() if assignee else None
    if not assignee and not new_owner_role:
        raise InvalidInput("assignee", assignee, "reassign needs an assignee or a new owner role")
    if new_owner_role is not None:
        _check_choice("new_owner_role", new_owner_role, ROLES)
    previous = {"owner_role": case.owner_role, "assignee": case.assignee}
    if new_owner_role is not None:
        case.owner_role = new_owner_role
    if assignee:
        case.assignee = assignee
    session.flush()
    record_event(
        session,
        "exception.reassigned",
        _subject(case),
        {
            "case_id": case.id,
            "from": previous,
            "to": {"owner_role": case.owner_role, "assignee": case.assignee},
            "reason": reason,
        },
        promotion_id=case.promotion_id,
        actor=actor,
    )
    return case


def _escalate(session: Session, case: ExceptionCase, actor: str, reason: str) -> ExceptionCase:
    if case.severity == SEVERITIES[-1] and case.owner_role == ADMIN_ROLE:
        raise Conflict(
            f"exception case {case.id} is already {case.severity} and owned by {ADMIN_ROLE}; "
            "there is nothing higher to escalate to — retry, waive or cancel instead"
        )
    previous = {"severity": case.severity, "owner_role": case.owner_role}
    case.severity = SEVERITIES[min(SEVERITIES.index(case.severity) + 1, len(SEVERITIES) - 1)]
    case.owner_role = ADMIN_ROLE
    session.flush()
    record_event(
        session,
        "exception.escalated",
        _subject(case),
        {
            "case_id": case.id,
            "from": previous,
            "to": {"severity": case.severity, "owner_role": case.owner_role},
            "reason": reason,
        },
        promotion_id=case.promotion_id,
        actor=actor,
    )
    return case


def _resolve(
    session: Session, case: ExceptionCase, action: str, actor: str, reason: str, now: datetime
) -> ExceptionCase:
    case.status = CaseStatus.RESOLVED
    case.resolution = action
    case.resolved_by = actor
    case.resolution_reason = reason
    case.resolved_at = now
    session.flush()
    record_event(
        session,
        "exception.resolved",
        _subject(case),
        {
            "case_id": case.id,
            "kind": case.kind,
            "resolution": action,
            "reason": reason,
            "workflow_id": case.workflow_id,
        },
        promotion_id=case.promotion_id,
        actor=actor,
    )
    return case


def close_case(
    session: Session,
    case: ExceptionCase,
    *,
    resolution: str,
    actor: str,
    reason: str,
    now: datetime,
) -> ExceptionCase:
    """Resolve an open case because its cause went away (not one of the people's actions)."""
    # Locked and re-read: a person's resolution committed meanwhile is never overwritten.
    if repository.lock(session, case).status != CaseStatus.OPEN:
        return case
    return _resolve(session, case, resolution, actor, reason, now)


def open_counts_by_kind(session: Session) -> dict[str, int]:
    """Open cases per kind, every kind named (0 when none), for metrics."""
    counts = repository.open_counts_by_kind(session)
    return {kind.value: counts.get(kind.value, 0) for kind in CaseKind}

"""Before and after: the audited columns of an object as the transaction found and left it.

A session listener keeps, the first time an audited object is flushed dirty,
the values its audited columns had when loaded; `changes` pairs them with the
values after the last flush. No command has to read the object twice.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction

from promoflow.audit.chain import plain

_BEFORE = "promoflow_audit_before"
_CREATED = "promoflow_audit_created"


@cache
def watched() -> dict[type, tuple[str, tuple[str, ...]]]:
    """Audited classes: object type and the columns a reviewer needs (state, who, why)."""
    from promoflow.approvals.models import ApprovalTask
    from promoflow.exceptions.models import ExceptionCase
    from promoflow.gates.models import GateWaiver
    from promoflow.promotions.models import Promotion
    from promoflow.recommendations.models import Recommendation

    return {
        Promotion: ("promotion", ("code", "status", "revision", "status_reason", "workflow_id")),
        ApprovalTask: (
            "approval_task",
            ("promotion_id", "revision", "assigned_role", "status", "decided_by", "comment"),
        ),
        ExceptionCase: (
            "exception_case",
            ("kind", "status", "owner_role", "assignee", "resolution", "resolution_reason"),
        ),
        Recommendation: ("recommendation", ("kind", "status", "decided_by", "reason")),
        GateWaiver: ("gate_waiver", ("promotion_id", "revision", "gate", "waived_by", "reason")),
    }


def _key(obj: object) -> tuple[type, Any]:
    return type(obj), sa.inspect(obj).identity


def _before_flush(session: Session, _context: object, _instances: object) -> None:
    audited = watched()
    for obj in session.new:
        if type(obj) in audited:
            session.info.setdefault(_CREATED, set()).add(id(obj))
    for obj in session.dirty:
        spec = audited.get(type(obj))
        if spec is None:
            continue
        kept = session.info.setdefault(_BEFORE, {}).setdefault(_key(obj), {})
        state = sa.inspect(obj)
        for name in spec[1]:
            history = state.attrs[name].history
            if history.deleted and name not in kept:
                kept[name] = history.deleted[0]


def _forget(session: Session, transaction: SessionTransaction) -> None:
    # Only when the outermost transaction ends: a savepoint's release is no boundary.
    if transaction.parent is None:
        session.info.pop(_BEFORE, None)
        session.info.pop(_CREATED, None)


def object_type(obj: object) -> str:
    return watched()[type(obj)][0]


def changes(session: Session, obj: object) -> tuple[dict[str, Any] | None, dict[str, Any]]:
    """(before, after) of an audited object; before is None for one created here."""
    session.flush()
    names = watched()[type(obj)][1]
    after = {name: plain(getattr(obj, name)) for name in names}
    if id(obj) in session.info.get(_CREATED, set()):
        return None, after
    kept = session.info.get(_BEFORE, {}).get(_key(obj), {})
    return {name: plain(kept.get(name, getattr(obj, name))) for name in names}, after


def install() -> None:
    """Listen on every session (once): the cost is a dict lookup per dirty object."""
    listeners: list[tuple[str, Callable[..., None]]] = [
        ("before_flush", _before_flush),
        ("after_transaction_end", _forget),
    ]
    for name, listener in listeners:
        if not event.contains(Session, name, listener):
            event.listen(Session, name, listener)

"""What the command boundaries call: record this change, by whoever asked, in this transaction.

Commands (lifecycle/commands.py), the API's unit of work and the API's refusals
all come through here, so the actor, the request id and the checkpoint key are
found the same way everywhere: from the request being served when there is one
(`context`), else from the command's own arguments (the CLI, the demo's desk).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from promoflow.audit import context, service, snapshots
from promoflow.audit.schemas import Actor, AuditEntry, Channel, Outcome
from promoflow.audit.signing import KEY_FILE, Notary, load_notary
from promoflow.kit.db import transaction

snapshots.install()


def signing_key_path() -> Path:
    """Where this process's checkpoint key is (configured, or in the data directory)."""
    from promoflow.runtime import get_runtime

    settings = get_runtime().settings
    return Path(settings.audit_signing_key or Path(settings.data_dir) / KEY_FILE)


def notary() -> Notary:
    """The signing key and checkpoint interval of this process's settings."""
    from promoflow.runtime import get_runtime

    return load_notary(signing_key_path(), get_runtime().settings.audit_checkpoint_every)


def _entry(actor: str | None, role: str | None, action: str, **fields: Any) -> AuditEntry:
    request = context.current()
    if request is None:
        return AuditEntry(Actor(actor, role), action, channel=Channel.CLI, **fields)
    request.recorded = True
    who = request.actor or Actor(actor, role)
    return AuditEntry(
        who,
        action,
        route=request.action,
        request_id=request.request_id,
        channel=Channel.API,
        **fields,
    )


def record_change(
    session: Session,
    action: str,
    obj: object,
    *,
    actor: str,
    role: str | None = None,
    reason: str = "",
    after: dict[str, Any] | None = None,
) -> None:
    """Record that `actor` did `action` to `obj` (an audited object), in the caller's transaction.

    Before and after are the object's audited columns as this transaction found
    and left them; `after` adds what the command did beyond them (a workflow
    started, tasks confirmed).
    """
    before, state = snapshots.changes(session, obj)
    ref = getattr(obj, "code", None) or str(getattr(obj, "id", "?"))
    entry = _entry(
        actor,
        role,
        action,
        object_type=snapshots.object_type(obj),
        object_ref=ref,
        before=before,
        after={**state, **(after or {})},
        reason=reason,
    )
    service.record(session, entry, notary())


def record_request(session: Session, status: int | None = None) -> None:
    """Record the request being served as allowed, in the caller's transaction, unless a
    command recorded it already (the unit of work calls this before it commits)."""
    request = context.current()
    if request is None or request.recorded:
        return
    entry = _entry(
        None,
        None,
        request.action,
        object_type=_object_type(request.route or request.path),
        object_ref=_ref(request.path_params),
        status=status or request.success_status,
    )
    service.record(session, entry, notary())


def record_unrecorded(sessions: sessionmaker[Session], status: int) -> None:
    """Record, right after it, a change a route committed through its own transactions."""
    with transaction(sessions) as session:
        record_request(session, status)


def record_denied(sessions: sessionmaker[Session], status: int, reason: str) -> None:
    """Record a refused request in a short transaction of its own (nothing else was written)."""
    request = context.current()
    if request is None:
        return
    entry = AuditEntry(
        request.actor or Actor(None, None),
        request.action,
        outcome=Outcome.DENIED,
        route=request.action,
        object_ref=_ref(request.path_params),
        reason=request.denied_reason or reason,
        status=status,
        request_id=request.request_id,
        channel=Channel.API,
    )
    with transaction(sessions) as session:
        service.record(session, entry, notary())


def _object_type(route: str) -> str | None:
    # /api/v1/connections/{name}/test -> connections
    parts = [part for part in route.split("/") if part and not part.startswith("{")]
    return parts[2] if len(parts) > 2 else None


def _ref(path_params: dict[str, str]) -> str | None:
    return ",".join(f"{k}={v}" for k, v in sorted(path_params.items())) or None

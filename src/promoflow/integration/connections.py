"""Connection commands that reach the external system: test, enable, disable.

A connection test calls the system, which must never happen inside a database
transaction (a slow system would hold it open), so these commands own their
transactions: read the connection, call outside any transaction, then record the
outcome in a short one. The rules themselves are `integration.service`'s.
"""

from __future__ import annotations

from sqlalchemy.orm import Session, sessionmaker

from promoflow.connectors.framework import ConnectionCheck
from promoflow.integration import service
from promoflow.kit.db import transaction
from promoflow.kit.errors import Conflict
from promoflow.kit.preconditions import Precondition


def run_connection_test(sessions: sessionmaker[Session], name: str, actor: str) -> ConnectionCheck:
    """Run the connector's own connection test and keep its outcome on the connection."""
    with sessions() as session:
        row = service.get_connection(session, name)
        session.expunge(row)
    try:
        check: ConnectionCheck = service.build_connector(row, sessions).check_connection()
    except Exception as error:  # a connector that cannot even be built fails its test
        check = ConnectionCheck(False, f"{type(error).__name__}: {error}")
    with transaction(sessions) as session:
        service.record_test(session, name, check, actor)
    return check


def enable(
    sessions: sessionmaker[Session],
    name: str,
    actor: str,
    *,
    if_match: Precondition | None = None,
) -> ConnectionCheck:
    """Test, then enable; refused when the test fails or a capability is already served.

    If-Match is checked before the test, against the connection the operator saw: the
    test then records its own outcome on the row, which is the point of enabling."""
    with sessions() as session:
        service.check_connection(session, name, if_match)
    check = run_connection_test(sessions, name, actor)
    if not check.ok:
        raise Conflict(
            f"connection {name!r} stays disabled: its connection test failed: {check.detail}",
            name=name,
        )
    with transaction(sessions) as session:
        service.mark_enabled(session, name, actor)
    _forget_bindings()
    return check


def disable(
    sessions: sessionmaker[Session],
    name: str,
    actor: str,
    *,
    if_match: Precondition | None = None,
) -> None:
    """Stop routing to the connection (only the version the operator saw, with If-Match)."""
    with transaction(sessions) as session:
        service.check_connection(session, name, if_match)
        service.mark_disabled(session, name, actor)
    _forget_bindings()


def _forget_bindings() -> None:
    from promoflow.connectors import registry

    registry.reset()

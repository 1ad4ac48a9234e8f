"""Connections: add, test, enable, disable, list with health; build the connector behind one.

A connection is a configured instance of an installed connector ("sap-prod" of
`sap-s4hana`) and the capabilities it serves for promoflow ("inventory",
"price_publication:ecommerce"). It starts disabled; enabling it runs its
connection test first and refuses if the test fails or another enabled
connection already serves one of its capabilities. The registry then routes
those ports to it instead of the sandbox estate.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session, sessionmaker

from promoflow.connectors.framework import (
    Capability,
    ConnectionCheck,
    ConnectorConfig,
    ConnectorContext,
    Manifest,
    connector_class,
    discover,
)
from promoflow.connectors.resilience import Guard, error_rate
from promoflow.events.log import record_event
from promoflow.integration.models import Connection, ConnectorHealth
from promoflow.kit.clock import utcnow
from promoflow.kit.db import transaction
from promoflow.kit.errors import Conflict, InvalidInput, NotFound

NAME_PATTERN = re.compile(r"^[a-z][a-z0-9-]{1,62}$")
CHANNELS = ("pos", "ecommerce")


def manifest_of(slug: str) -> Manifest:
    manifest: Manifest = connector_class(slug).manifest
    return manifest


def _check_serves(manifest: Manifest, serves: Sequence[str]) -> list[str]:
    """Each entry a capability of the connector, price publication with its channel."""
    checked: list[str] = []
    offered = {c.value for c in manifest.capabilities}
    for index, entry in enumerate(serves):
        capability, _, channel = entry.partition(":")
        where = f"serves[{index}]"
        if capability not in offered:
            raise InvalidInput(
                where, entry, f"{manifest.slug} offers {', '.join(sorted(offered)) or 'nothing'}"
            )
        if capability == Capability.PRICE_PUBLICATION.value:
            if channel not in CHANNELS:
                raise InvalidInput(
                    where, entry, "say which channel: price_publication:pos or :ecommerce"
                )
        elif channel:
            raise InvalidInput(where, entry, "only price_publication takes a channel")
        if entry in checked:
            raise InvalidInput(where, entry, "listed twice")
        checked.append(entry)
    return checked


def add_connection(
    session: Session,
    *,
    name: str,
    connector: str,
    config: dict[str, Any],
    serves: Sequence[str],
    rate_limit_per_second: float | None = None,
    actor: str = "system",
) -> Connection:
    """Register a connection (disabled until its test passes); the config is validated now."""
    if not NAME_PATTERN.match(name):
        raise InvalidInput(
            "name", name, "use 2-63 lower-case letters, digits and dashes, starting with a letter"
        )
    if session.get(Connection, name) is not None:
        raise Conflict(f"connection {name!r} already exists", name=name)
    manifest = manifest_of(connector)
    checked = ConnectorConfig(manifest, config)
    bindings = _check_serves(manifest, serves)
    if rate_limit_per_second is not None and rate_limit_per_second <= 0:
        raise InvalidInput("rate_limit_per_second", rate_limit_per_second, "must be > 0")
    now = utcnow()
    row = Connection(
        name=name,
        connector=connector,
        config=checked.public(),
        serves=bindings,
        enabled=False,
        rate_limit_per_second=rate_limit_per_second,
        test_detail="",
        created_at=now,
        updated_at=now,
    )
    session.add(row)
    record_event(
        session,
        "integration.connection.added",
        f"connection/{name}",
        {"name": name, "connector": connector, "serves": bindings},
        actor=actor,
    )
    session.flush()
    return row


def get_connection(session: Session, name: str) -> Connection:
    row = session.get(Connection, name)
    if row is None:
        raise NotFound(f"no connection {name!r}", name=name)
    return row


def build_connector(row: Connection, sessions: sessionmaker[Session] | None, **extras: Any) -> Any:
    """The connector instance behind a connection, its calls guarded under its name."""
    cls = connector_class(row.connector)
    config = ConnectorConfig(cls.manifest, row.config)
    context = ConnectorContext(
        name=row.name,
        guard=Guard(row.name, sessions=sessions, rate_limit_per_second=row.rate_limit_per_second),
        sessions=sessions,
        extras=extras,
    )
    return cls(config, context)


def run_connection_test(sessions: sessionmaker[Session], name: str, actor: str) -> ConnectionCheck:
    """Run the connector's own connection test and keep its outcome on the connection."""
    with sessions() as session:
        row = get_connection(session, name)
        session.expunge(row)
    try:
        check: ConnectionCheck = build_connector(row, sessions).check_connection()
    except Exception as error:  # a connector that cannot even be built fails its test
        check = ConnectionCheck(False, f"{type(error).__name__}: {error}")
    with transaction(sessions) as session:
        stored = get_connection(session, name)
        stored.tested_at = utcnow()
        stored.test_ok = check.ok
        stored.test_detail = check.detail[:2000]
        record_event(
            session,
            "integration.connection.tested",
            f"connection/{name}",
            {"name": name, "ok": check.ok, "detail": check.detail[:500]},
            actor=actor,
        )
    return check


def enable(sessions: sessionmaker[Session], name: str, actor: str) -> ConnectionCheck:
    """Test, then enable; refused when the test fails or a capability is already served."""
    check = run_connection_test(sessions, name, actor)
    if not check.ok:
        raise Conflict(
            f"connection {name!r} stays disabled: its connection test failed: {check.detail}",
            name=name,
        )
    with transaction(sessions) as session:
        row = get_connection(session, name)
        others = session.scalars(
            sa.select(Connection).where(Connection.enabled.is_(True), Connection.name != name)
        ).all()
        for other in others:
            shared = sorted(set(other.serves) & set(row.serves))
            if shared:
                raise Conflict(
                    f"{other.name!r} already serves {', '.join(shared)}: disable it first",
                    name=name,
                    other=other.name,
                )
        row.enabled = True
        row.updated_at = utcnow()
        record_event(
            session,
            "integration.connection.enabled",
            f"connection/{name}",
            {"name": name, "serves": row.serves},
            actor=actor,
        )
    _forget_bindings()
    return check


def disable(sessions: sessionmaker[Session], name: str, actor: str) -> None:
    with transaction(sessions) as session:
        row = get_connection(session, name)
        row.enabled = False
        row.updated_at = utcnow()
        record_event(
            session,
            "integration.connection.disabled",
            f"connection/{name}",
            {"name": name},
            actor=actor,
        )
    _forget_bindings()


def _forget_bindings() -> None:
    from promoflow.connectors import registry

    registry.reset()


def bindings(session: Session) -> dict[str, str]:
    """Which enabled connection serves each capability ("inventory" -> "sap-prod")."""
    rows = session.scalars(sa.select(Connection).where(Connection.enabled.is_(True))).all()
    return {entry: row.name for row in rows for entry in row.serves}


def describe(row: Connection, health: ConnectorHealth | None) -> dict[str, Any]:
    """A connection as the CLI and API show it: secret fields only as their reference."""
    return {
        "name": row.name,
        "connector": row.connector,
        "serves": list(row.serves),
        "enabled": row.enabled,
        "config": dict(row.config),
        "rate_limit_per_second": row.rate_limit_per_second,
        "last_test": {
            "at": row.tested_at.isoformat() if row.tested_at else None,
            "ok": row.test_ok,
            "detail": row.test_detail,
        },
        "health": health_summary(health),
    }


def health_summary(health: ConnectorHealth | None) -> dict[str, Any]:
    if health is None:
        return {"circuit_state": "closed", "last_success_at": None, "error_rate": None, "calls": 0}
    return {
        "circuit_state": health.circuit_state,
        "circuit_opened_at": health.circuit_opened_at.isoformat()
        if health.circuit_opened_at
        else None,
        "last_success_at": health.last_success_at.isoformat() if health.last_success_at else None,
        "last_failure_at": health.last_failure_at.isoformat() if health.last_failure_at else None,
        "last_error": health.last_error,
        "error_rate": error_rate(health.recent),
        "recent_calls": len(health.recent),
        "calls": health.calls,
        "failures": health.failures,
    }


def list_connections(session: Session) -> list[dict[str, Any]]:
    rows = session.scalars(sa.select(Connection).order_by(Connection.name)).all()
    health = {h.connection: h for h in session.scalars(sa.select(ConnectorHealth))}
    return [describe(row, health.get(row.name)) for row in rows]


def list_installed() -> list[dict[str, Any]]:
    """Every connector the entry point group offers, with its manifest or why it failed."""
    result = []
    for slug, found in sorted(discover().items()):
        manifest = found.manifest
        if manifest is None:
            result.append({"slug": slug, "available": False, "error": found.error})
        else:
            result.append({**manifest.as_dict(), "available": True})
    return result

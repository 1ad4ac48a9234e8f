"""The rules of connections and of the consumers' inbox, in the caller's transaction.

A connection is a configured instance of an installed connector ("sap-prod" of
`sap-s4hana`) and the capabilities it serves for promoflow ("inventory",
"price_publication:ecommerce"). It starts disabled; enabling it (after its
connection test, `integration.connections.enable`) refuses when another enabled
connection already serves one of its capabilities. The registry then routes those
ports to it instead of the sandbox estate.

Nothing here commits: the request, the command or the run that calls it does.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime
from typing import Any

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
from promoflow.integration import repository
from promoflow.integration.models import Connection, ConnectorHealth, ProcessedEvent
from promoflow.kit.clock import utcnow
from promoflow.kit.errors import Conflict, InvalidInput, NotFound
from promoflow.kit.preconditions import Precondition, entity_tag

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
    if repository.get_connection(session, name) is not None:
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
    row = repository.get_connection(session, name)
    if row is None:
        raise NotFound(f"no connection {name!r}", name=name)
    return row


def record_test(session: Session, name: str, check: ConnectionCheck, actor: str) -> None:
    """Keep the outcome of a connection test on the connection, with its event."""
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


def mark_enabled(session: Session, name: str, actor: str) -> None:
    """Route the connection's capabilities to it; Conflict when another already serves one."""
    row = get_connection(session, name)
    for other in repository.enabled_connections(session, other_than=name):
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


def mark_disabled(session: Session, name: str, actor: str) -> None:
    """Stop routing to the connection."""
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


def bindings(session: Session) -> dict[str, str]:
    """Which enabled connection serves each capability ("inventory" -> "sap-prod")."""
    rows = repository.enabled_connections(session)
    return {entry: row.name for row in rows for entry in row.serves}


def connection_rates(session: Session) -> list[tuple[str, float | None]]:
    """(name, rate limit per second) of every configured connection, for their queues."""
    return repository.connection_rates(session)


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


def connection_tag(session: Session, name: str) -> str:
    """The connection's ETag: its row's version and the health it is shown with."""
    return entity_tag(
        get_connection(session, name), health_summary(repository.get_health(session, name))
    )


def check_connection(session: Session, name: str, if_match: Precondition | None) -> None:
    """PreconditionFailed unless If-Match (when given) names the connection as it is now."""
    if if_match is not None:
        if_match.check(connection_tag(session, name), f"connection {name!r}")


def describe_connection(session: Session, name: str) -> dict[str, Any]:
    """One connection as the CLI and API show it, with its health (NotFound when unknown)."""
    return describe(get_connection(session, name), repository.get_health(session, name))


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def health_summary(health: ConnectorHealth | None) -> dict[str, Any]:
    if health is None:
        return {"circuit_state": "closed", "last_success_at": None, "error_rate": None, "calls": 0}
    return {
        "circuit_state": health.circuit_state,
        "circuit_opened_at": _iso(health.circuit_opened_at),
        "last_success_at": _iso(health.last_success_at),
        "last_failure_at": _iso(health.last_failure_at),
        "last_error": health.last_error,
        "error_rate": error_rate(health.recent),
        "recent_calls": len(health.recent),
        "calls": health.calls,
        "failures": health.failures,
    }


def list_connections(session: Session) -> list[dict[str, Any]]:
    rows = repository.all_connections(session)
    health = repository.all_health(session)
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


# The consumers' inbox ------------------------------------------------------------


def already_processed(session: Session, consumer: str, event_id: str) -> bool:
    """Whether `consumer` has applied the event (its inbox row exists)."""
    return repository.processed_event(session, consumer, event_id) is not None


def mark_processed(session: Session, consumer: str, event_id: str) -> None:
    """Write the inbox row, in the transaction of the consumer's effects."""
    session.add(ProcessedEvent(consumer=consumer, event_id=event_id, processed_at=utcnow()))


def forget_processed(session: Session, consumer: str, event_id: str) -> None:
    """Remove the inbox row, so the event is applied again (an effect after commit failed)."""
    repository.delete_processed_event(session, consumer, event_id)

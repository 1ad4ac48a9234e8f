"""Diagnostics of one connection: what an operator pastes into a support ticket.

Versions (promoflow, Python, httpx, the connector's libraries, the API or protocol
version the connector speaks and, when asked to probe, the one the system reports),
the manifest, the health row, the last calls the Guard recorded (in whichever
process made them: the row is in the database), and the settings redacted.

Redaction is the point of this module: nothing it returns holds a secret. A
secret field shows as `<redacted: env:NAME>` (its reference, never its value);
a URL loses its user, password, query and fragment, wherever it appears, error
messages included; and, should a system have echoed a secret into an error we
recorded, every readable secret value of the connection is blanked out of the
whole answer as a last line of defence.

Each connector adds what is specific to its system through its class's
`system_details(config)` (its `diagnostics.py`), and may answer
`reported_version()` by asking the system, which only happens with `probe`.
"""

from __future__ import annotations

import platform
import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx
from sqlalchemy.orm import Session

import promoflow
from promoflow.connectors.framework import (
    SECRET_SCHEMES,
    ConnectorConfig,
    Manifest,
    SystemDetails,
    connector_class,
)
from promoflow.integration import repository
from promoflow.integration import service as connections
from promoflow.kit.clock import utcnow
from promoflow.kit.errors import InvalidInput

REDACTED = "<redacted>"
# A setting not in the manifest (an older row) is hidden when its name says secret.
SECRET_NAMES = re.compile(r"secret|password|passwd|token|api_?key|credential", re.IGNORECASE)
# A URL in a text, our own `<redacted>` marker included so a second pass changes nothing.
_URL_IN_TEXT = re.compile(r"https?://(?:[^\s'\"<>]|<redacted>)+")
SHORTEST_SCRUBBED = 4  # shorter "secrets" would blank out ordinary words


@dataclass(frozen=True)
class ConnectorDiagnostics:
    """One connection's diagnostics, safe to paste anywhere."""

    connection: str
    connector: str
    enabled: bool
    serves: list[str]
    generated_at: str
    versions: dict[str, str | None]
    speaks: str
    reported_version: str | None
    manifest: dict[str, Any]
    health: dict[str, Any]
    last_calls: list[dict[str, Any]]
    last_test: dict[str, Any]
    settings: dict[str, Any]
    secrets: dict[str, str]
    system: dict[str, Any] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def redact_url(url: str) -> str:
    """The URL without user, password, query or fragment (where tokens travel)."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        return REDACTED
    if not parts.scheme or not host:
        return url
    if ":" in host:  # an IPv6 literal
        host = f"[{host}]"
    query = REDACTED if parts.query else ""
    return urlunsplit((parts.scheme, host + port, parts.path, query, ""))


def redact_reference(value: Any) -> str:
    """A secret setting as shown: its reference, `<redacted: env:NAME>`, never a value."""
    if isinstance(value, str) and value.startswith(SECRET_SCHEMES):
        return f"<redacted: {value}>"
    return REDACTED


def redact_settings(manifest: Manifest, values: Mapping[str, Any]) -> dict[str, Any]:
    """Stored settings with secrets as references and URLs without credentials or query."""
    kinds = {item.name: item for item in manifest.config}
    shown: dict[str, Any] = {}
    for name, value in values.items():
        item = kinds.get(name)
        if (item is not None and item.secret) or (item is None and SECRET_NAMES.search(name)):
            shown[name] = None if value is None else redact_reference(value)
        elif isinstance(value, str):
            shown[name] = scrub_text(value)
        else:
            shown[name] = value
    return shown


def scrub_text(text: str) -> str:
    """Every URL in a text redacted (error messages quote the URLs they called)."""
    return _URL_IN_TEXT.sub(lambda found: redact_url(found.group(0)), text)


def scrub(value: Any, secrets: tuple[str, ...] = ()) -> Any:
    """A JSON-like value with URLs redacted and every known secret value blanked out."""
    if isinstance(value, str):
        text = scrub_text(value)
        for secret in secrets:
            text = text.replace(secret, REDACTED)
        return text
    if isinstance(value, Mapping):
        return {key: scrub(item, secrets) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [scrub(item, secrets) for item in value]
    return value


def _secret_values(config: ConnectorConfig | None) -> tuple[dict[str, str], tuple[str, ...]]:
    """Whether each secret can be read here, and the values (to blank them out, never shown)."""
    if config is None:
        return {}, ()
    status: dict[str, str] = {}
    values: list[str] = []
    for item in config.manifest.config:
        if not item.secret or config.get(item.name) is None:
            continue
        try:
            value = config.secret(item.name)
        except InvalidInput:
            status[item.name] = "unreadable in this process"
            continue
        status[item.name] = "readable"
        if len(value) >= SHORTEST_SCRUBBED:
            values.append(value)
    return status, tuple(sorted(values, key=len, reverse=True))


def _versions(details: SystemDetails | None) -> dict[str, str | None]:
    versions: dict[str, str | None] = {
        "promoflow": promoflow.__version__,
        "python": platform.python_version(),
        "httpx": httpx.__version__,
    }
    if details is not None:
        versions.update(details.libraries)
    return versions


def _system(
    cls: type[Any], config: ConnectorConfig | None, problems: list[str]
) -> SystemDetails | None:
    describe = getattr(cls, "system_details", None)
    if config is None or describe is None:
        return None
    try:
        details: SystemDetails = describe(config)
    except Exception as error:  # a diagnostics view must show, not fail
        problems.append(f"system details: {type(error).__name__}: {error}")
        return None
    return details


def _reported(row: Any, problems: list[str]) -> str | None:
    """Ask the system its version (no database: this probe is not recorded as a call)."""
    try:
        connector = connections.build_connector(row, None)
        ask = getattr(connector, "reported_version", None)
        return None if ask is None else ask()
    except Exception as error:
        problems.append(f"probe: {type(error).__name__}: {error}")
        return None


def diagnose(session: Session, name: str, *, probe: bool = False) -> ConnectorDiagnostics:
    """The diagnostics of connection `name` (NotFound when there is none).

    Without `probe` nothing is sent anywhere; with it, the connector asks the system
    for its version (where the system tells).
    """
    row = connections.get_connection(session, name)
    health = repository.get_health(session, name)
    problems: list[str] = []
    cls = connector_class(row.connector)
    manifest: Manifest = cls.manifest
    config: ConnectorConfig | None
    try:
        config = ConnectorConfig(manifest, row.config)
    except InvalidInput as error:
        config = None
        problems.append(f"settings refused: {error}")
    details = _system(cls, config, problems)
    reported = _reported(row, problems) if probe and config is not None else None
    secret_status, secret_values = _secret_values(config)
    summary = connections.health_summary(health)
    answer = ConnectorDiagnostics(
        connection=row.name,
        connector=row.connector,
        enabled=row.enabled,
        serves=list(row.serves),
        generated_at=utcnow().isoformat(),
        versions=_versions(details),
        speaks=details.speaks if details is not None else manifest.protocol,
        reported_version=reported,
        manifest=manifest.as_dict(),
        health=summary,
        last_calls=list(reversed(health.last_calls or [])) if health is not None else [],
        last_test={
            "at": row.tested_at.isoformat() if row.tested_at else None,
            "ok": row.test_ok,
            "detail": row.test_detail,
        },
        settings=redact_settings(manifest, row.config),
        secrets=secret_status,
        system=details.details if details is not None else {},
        problems=problems,
    )
    return ConnectorDiagnostics(**scrub(answer.as_dict(), secret_values))

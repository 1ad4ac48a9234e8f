"""The connector framework: manifests, validated settings with secret references, discovery.

A connector is a class with a `manifest` (slug, kind, capabilities, config schema)
that is built from a `ConnectorConfig` and a `ConnectorContext`, tests its
connection with `check_connection()`, and implements the ports (`connectors.ports`)
of the capabilities its manifest declares.

Connectors are discovered through the `promoflow.connectors` entry point group, so a
retailer's own connector package plugs in by declaring one entry point; the ones
shipped here are declared in this project's pyproject.

Secrets are never stored or shown. A secret field's configured value is a
reference, `env:NAME` or `file:PATH`, resolved only when the connector calls
`config.secret(name)`; `public()` and `repr()` show the reference, never the value.
What references, URLs and paths a connection may use is the server's
`connectors.outbound` policy, checked whenever a config is built; connectors make
their HTTP clients with `config.http_client()`, which checks every request's host.
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from importlib.metadata import entry_points
from typing import TYPE_CHECKING, Any, ClassVar, Literal, Protocol, runtime_checkable

from promoflow.connectors.outbound import OutboundPolicy, current_policy
from promoflow.kit.errors import InvalidInput, NotFound
from promoflow.kit.logging import get_logger

if TYPE_CHECKING:
    import httpx
    from sqlalchemy.orm import Session, sessionmaker

    from promoflow.connectors.resilience import Guard

ENTRY_POINT_GROUP = "promoflow.connectors"
SECRET_SCHEMES = ("env:", "file:")
log = get_logger(__name__)


class Capability(StrEnum):
    """What an external system can do for us; each has a port in `connectors.ports`."""

    ITEM_MASTER = "item_master"
    INVENTORY = "inventory"
    PURCHASE_ORDERS = "purchase_orders"
    PRICE_PUBLICATION = "price_publication"
    SALES_FEED = "sales_feed"
    FINANCE_POSTING = "finance_posting"
    STORE_TASKS = "store_tasks"
    SUPPLIER_COLLABORATION = "supplier_collaboration"
    STOCK_TRANSFER = "stock_transfer"


ConnectorKind = Literal["erp", "commerce", "supplier", "files", "pos", "wms", "sandbox"]
FieldKind = Literal["string", "url", "integer", "number", "boolean", "path"]


@dataclass(frozen=True)
class ConfigField:
    """One setting of a connector; `secret` fields take a reference, never a value."""

    name: str
    kind: FieldKind = "string"
    required: bool = True
    secret: bool = False
    default: Any = None
    description: str = ""
    minimum: float | None = None  # for integer and number fields
    maximum: float | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "kind": self.kind,
            "required": self.required,
            "secret": self.secret,
            "default": self.default,
            "description": self.description,
            "minimum": self.minimum,
            "maximum": self.maximum,
        }


@dataclass(frozen=True)
class Manifest:
    """What a connector is and needs, declared next to its code."""

    slug: str
    name: str
    kind: ConnectorKind
    protocol: str
    capabilities: tuple[Capability, ...]
    config: tuple[ConfigField, ...]
    description: str = ""

    def field(self, name: str) -> ConfigField:
        for item in self.config:
            if item.name == name:
                return item
        raise KeyError(name)

    def as_dict(self) -> dict[str, Any]:
        return {
            "slug": self.slug,
            "name": self.name,
            "kind": self.kind,
            "protocol": self.protocol,
            "capabilities": [c.value for c in self.capabilities],
            "config": [f.as_dict() for f in self.config],
            "description": self.description,
        }


def _check_range(item: ConfigField, number: float) -> None:
    if item.minimum is not None and number < item.minimum:
        raise InvalidInput(f"config.{item.name}", number, f"must be at least {item.minimum:g}")
    if item.maximum is not None and number > item.maximum:
        raise InvalidInput(f"config.{item.name}", number, f"must be at most {item.maximum:g}")


# Settings arrive typed from the API and as text from the CLI's --set: text is
# read strictly (no 'yes' for true, no '1.5' for an integer, no 'nan' or 'inf').
_INTEGER_TEXT = re.compile(r"^[+-]?\d{1,12}$")
_NUMBER_LIMIT = 1e9  # no setting of ours is larger; beyond it a float stops being exact


def _integer(value: Any) -> int:
    if isinstance(value, bool):
        raise ValueError(value)
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and _INTEGER_TEXT.match(value.strip()):
        return int(value.strip())
    raise ValueError(value)


def _number(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ValueError(value)
    number = float(value)
    if not math.isfinite(number) or abs(number) > _NUMBER_LIMIT:
        raise ValueError(value)
    return number


def _boolean(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text not in ("true", "false"):
        raise ValueError(value)
    return text == "true"


def timeout_field(default: float = 30.0) -> ConfigField:
    """The `timeout_seconds` setting every HTTP connector has: one second to ten minutes."""
    return ConfigField(
        "timeout_seconds",
        "number",
        default=default,
        description="seconds to wait for one answer",
        minimum=1,
        maximum=600,
    )


def _coerce(item: ConfigField, value: Any) -> Any:
    """The value in its field's type, or InvalidInput naming the field and value."""
    where = f"config.{item.name}"
    if item.secret:
        if not isinstance(value, str) or not value.startswith(SECRET_SCHEMES):
            # Never echo what may be a pasted secret: name the field, mask the value.
            raise InvalidInput(
                where,
                "***",
                "a secret is configured as a reference, env:VARIABLE or file:/path, "
                "never as the value itself",
            )
        return value
    try:
        if item.kind == "integer":
            number: float = _integer(value)
            _check_range(item, number)
            return number
        if item.kind == "number":
            number = _number(value)
            _check_range(item, number)
            return number
        if item.kind == "boolean":
            return _boolean(value)
    except (TypeError, ValueError, OverflowError):
        raise InvalidInput(where, value, f"must be a {item.kind}") from None
    text = str(value)
    if item.kind == "url" and not text.startswith(("http://", "https://")):
        raise InvalidInput(where, value, "must be an http:// or https:// URL")
    if item.required and not text.strip():
        raise InvalidInput(where, value, "must not be empty")
    return text


class ConnectorConfig:
    """A connector's settings, checked against its manifest and the server's policy when built."""

    def __init__(
        self,
        manifest: Manifest,
        values: Mapping[str, Any],
        policy: OutboundPolicy | None = None,
    ) -> None:
        self.policy = policy or current_policy()
        known = {f.name for f in manifest.config}
        for name in values:
            if name not in known:
                raise InvalidInput(
                    f"config.{name}",
                    "***" if "secret" in name or "password" in name else values[name],
                    f"{manifest.slug} has no such setting; it takes {', '.join(sorted(known))}",
                )
        resolved: dict[str, Any] = {}
        for item in manifest.config:
            value = values.get(item.name, item.default)
            if value is None:
                if item.required:
                    raise InvalidInput(f"config.{item.name}", None, "is required")
                resolved[item.name] = None
                continue
            resolved[item.name] = _coerce(item, value)
            self._check_reach(item, resolved[item.name])
        self.manifest = manifest
        self._values = resolved

    def _check_reach(self, item: ConfigField, value: Any) -> None:
        where = f"config.{item.name}"
        if item.secret:
            self.policy.check_secret_reference(where, value)
        elif item.kind == "url":
            self.policy.check_url(where, value)
        elif item.kind == "path":
            self.policy.check_path(where, value)

    def get(self, name: str) -> Any:
        """A plain setting (a secret field returns its reference, not the secret)."""
        self.manifest.field(name)
        return self._values.get(name)

    def secret(self, name: str) -> str:
        """Resolve a secret reference now; the value is never kept on this object."""
        item = self.manifest.field(name)
        if not item.secret:
            raise KeyError(f"{name} is not a secret field")
        reference = self._values.get(name)
        if reference is None:
            raise InvalidInput(f"config.{name}", None, "is required")
        return self.policy.read_secret(f"config.{name}", str(reference))

    def http_client(self, system: str, **options: Any) -> httpx.Client:
        """An httpx client for this connection that sends to allowed hosts only."""
        return self.policy.http_client(system, **options)

    def public(self) -> dict[str, Any]:
        """Settings safe to show: secret fields as their reference."""
        return dict(self._values)

    def __repr__(self) -> str:
        return f"ConnectorConfig({self.manifest.slug}, {self.public()!r})"


@dataclass(frozen=True)
class ConnectionCheck:
    """The result of a connection test: run before a connection is enabled."""

    ok: bool
    detail: str
    seconds: float = 0.0


@dataclass
class ConnectorContext:
    """What a connector instance gets besides its settings.

    `name` is the connection's name (health, dead letters and logs are keyed by
    it); `sessions` reaches our database for quarantine and health, absent in
    unit tests of a protocol client; `guard` wraps every remote call with retries,
    backoff and the circuit breaker.
    """

    name: str
    guard: Guard
    sessions: sessionmaker[Session] | None = None
    extras: dict[str, Any] = field(default_factory=dict)


@runtime_checkable
class Connector(Protocol):
    manifest: ClassVar[Manifest]

    def check_connection(self) -> ConnectionCheck:
        """Reach the system with the configured credentials and say whether it answers."""
        ...


def timed_check(probe: Any) -> ConnectionCheck:
    """Run `probe()` (returns a detail string) and turn its outcome into a ConnectionCheck."""
    started = time.perf_counter()
    try:
        detail = str(probe())
    except Exception as error:
        return ConnectionCheck(False, str(error), time.perf_counter() - started)
    return ConnectionCheck(True, detail, time.perf_counter() - started)


@dataclass(frozen=True)
class SystemDetails:
    """What a connector's `diagnostics.py` tells about its system, for a support ticket.

    `speaks`: the API or protocol version the connector is written against (what
    the vendor's support asks first); `details`: the system-specific settings that
    locate a problem (a service path, a company, a project, folders and counts),
    never a secret; `libraries`: versions of the client libraries it uses.
    A connector class offers these through `system_details(config)`, and may
    answer `reported_version()` by asking the system (`connectors.diagnostics`).
    """

    speaks: str
    details: dict[str, Any] = field(default_factory=dict)
    libraries: dict[str, str | None] = field(default_factory=dict)


@dataclass(frozen=True)
class Discovered:
    """A connector found through the entry point group, or why it could not load."""

    slug: str
    target: str
    cls: type[Any] | None
    error: str = ""

    @property
    def manifest(self) -> Manifest | None:
        return getattr(self.cls, "manifest", None) if self.cls is not None else None


_registered: dict[str, type[Any]] = {}
_warned: set[tuple[str, str]] = set()


def register_connector(cls: type[Any]) -> type[Any]:
    """Add a connector class without an entry point (an embedding application, tests).

    Entry points stay the way to ship a connector; this is for code that builds
    one at run time. A registered slug wins over an entry point of the same name.
    """
    manifest = getattr(cls, "manifest", None)
    if not isinstance(manifest, Manifest):
        raise TypeError(f"{cls.__name__} has no `manifest: Manifest`")
    _registered[manifest.slug] = cls
    return cls


def unregister_connector(slug: str) -> None:
    _registered.pop(slug, None)


def discover() -> dict[str, Discovered]:
    """Every connector declared in the `promoflow.connectors` entry point group."""
    found: dict[str, Discovered] = {}
    for point in entry_points(group=ENTRY_POINT_GROUP):
        try:
            cls = point.load()
        except Exception as error:  # a broken plug-in must not take the others down
            if (point.name, str(error)) not in _warned:
                _warned.add((point.name, str(error)))
                log.warning("connector_unavailable", slug=point.name, error=str(error))
            found[point.name] = Discovered(point.name, point.value, None, str(error))
            continue
        manifest = getattr(cls, "manifest", None)
        if not isinstance(manifest, Manifest):
            found[point.name] = Discovered(
                point.name, point.value, None, "the class has no `manifest: Manifest`"
            )
        elif manifest.slug != point.name:
            found[point.name] = Discovered(
                point.name,
                point.value,
                None,
                f"entry point {point.name!r} loads a manifest with slug {manifest.slug!r}",
            )
        else:
            found[point.name] = Discovered(point.name, point.value, cls)
    for slug, cls in _registered.items():
        found[slug] = Discovered(slug, f"{cls.__module__}:{cls.__qualname__}", cls)
    return found


def connector_class(slug: str) -> type[Any]:
    """The class of an installed connector, or NotFound listing what is installed."""
    found = discover()
    entry = found.get(slug)
    if entry is None:
        raise NotFound(
            f"no connector {slug!r}; installed: {', '.join(sorted(found))}", connector=slug
        )
    if entry.cls is None:
        raise NotFound(f"connector {slug!r} cannot be loaded: {entry.error}", connector=slug)
    return entry.cls

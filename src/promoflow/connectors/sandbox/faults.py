"""Deterministic fault injection for the sandbox systems: latency, errors, outages.

Faults live in `sandbox_faults` and are read on every call, so `promoflow` in
another process (or a test's own session) can break a system while a worker is
talking to it. Whether a call fails is a hash of (seed, system, operation, key,
attempt), so the same scenario fails the same calls every time.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy.orm import Session, sessionmaker

from promoflow.connectors.sandbox import repository
from promoflow.connectors.sandbox.models import SandboxFault
from promoflow.kit.clock import utcnow
from promoflow.kit.db import transaction
from promoflow.kit.errors import InvalidInput

SYSTEMS = (
    "sandbox-pos",
    "sandbox-ecommerce",
    "sandbox-store-tasks",
    "sandbox-wms",
    "sandbox-supplier-portal",
    "sandbox-pos-sales",
    "sandbox-erp",
    "sandbox-erp-finance",
)

Window = tuple[datetime, datetime]


def as_utc(moment: datetime) -> datetime:
    """SQLite hands back naive datetimes; everything the sandbox stores is UTC."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


@dataclass(frozen=True)
class Faults:
    """The faults in force for one system at the time of a call."""

    latency_ms: int = 0
    error_rate: float = 0.0
    outages: tuple[Window, ...] = ()
    fail_next: int = 0
    seed: int = 0

    def outage_at(self, moment: datetime) -> Window | None:
        """The outage window covering `moment`, if any."""
        return next((w for w in self.outages if w[0] <= moment < w[1]), None)


def _check_system(system: str) -> None:
    if system not in SYSTEMS:
        raise InvalidInput("system", system, f"expected one of {', '.join(SYSTEMS)}")


def set_faults(
    sessions: sessionmaker[Session],
    system: str,
    *,
    latency_ms: int = 0,
    error_rate: float = 0.0,
    outages: list[Window] | None = None,
    fail_next: int = 0,
    seed: int = 0,
) -> Faults:
    """Replace the faults of `system`; outages are [start, end) windows in UTC."""
    _check_system(system)
    if latency_ms < 0:
        raise InvalidInput("latency_ms", latency_ms, "must be 0 or more")
    if not 0.0 <= error_rate <= 1.0:
        raise InvalidInput("error_rate", error_rate, "must be between 0 and 1")
    if fail_next < 0:
        raise InvalidInput("fail_next", fail_next, "must be 0 or more")
    windows = [(as_utc(start), as_utc(end)) for start, end in outages or []]
    for start, end in windows:
        if end <= start:
            raise InvalidInput("outages", [start, end], "a window must end after it starts")
    with transaction(sessions) as session:
        row = session.get(SandboxFault, system) or SandboxFault(system=system)
        row.latency_ms = latency_ms
        row.error_rate = error_rate
        row.outages = [[start.isoformat(), end.isoformat()] for start, end in windows]
        row.fail_next = fail_next
        row.seed = seed
        row.updated_at = utcnow()
        session.add(row)
    return Faults(latency_ms, error_rate, tuple(windows), fail_next, seed)


def clear_faults(sessions: sessionmaker[Session], system: str | None = None) -> None:
    """Make `system` (or every system) healthy again."""
    if system is not None:
        _check_system(system)
    with transaction(sessions) as session:
        repository.delete_faults(session, system)


def read_faults(sessions: sessionmaker[Session], system: str) -> Faults:
    """The faults currently set for `system` (none if never set)."""
    with transaction(sessions) as session:
        row = session.get(SandboxFault, system)
        if row is None:
            return Faults()
        windows = tuple(
            (as_utc(datetime.fromisoformat(start)), as_utc(datetime.fromisoformat(end)))
            for start, end in row.outages
        )
        return Faults(row.latency_ms, row.error_rate, windows, row.fail_next, row.seed)


def take_forced_failure(sessions: sessionmaker[Session], system: str) -> bool:
    """Consume one of the `fail_next` failures, atomically across processes."""
    with transaction(sessions) as session:
        return repository.take_forced_failure(session, system)


def attempt_number(session: Session, system: str, operation: str, key: str) -> int:
    """How many times this exact call was made before (0 for the first)."""
    return repository.earlier_attempts(session, system, operation, key)


def injected_error(faults: Faults, system: str, operation: str, key: str, attempt: int) -> bool:
    """Whether the error rate strikes this attempt (a pure function of its inputs)."""
    if faults.error_rate <= 0.0:
        return False
    text = f"{faults.seed}|{system}|{operation}|{key}|{attempt}".encode()
    draw = int.from_bytes(hashlib.sha256(text).digest()[:8], "big") / 2**64
    return draw < faults.error_rate


def list_faults(sessions: sessionmaker[Session]) -> dict[str, Faults]:
    """Faults of every system that has any set."""
    with transaction(sessions) as session:
        systems = repository.systems_with_faults(session)
    return {system: read_faults(sessions, system) for system in systems}

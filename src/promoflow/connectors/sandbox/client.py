"""The sandbox's client: what every sandbox system shares, its own transactions, faults,
a request log and receipts.

The sandbox estate lives in promoflow's database, so there is no protocol to speak:
this base, which gives each simulated system the behaviour of a remote one, plays
the part a protocol client plays for the real connectors.

A sandbox system behaves like something on the other side of a network: each
call runs in its own short transaction on the sessionmaker it was built with
(never the caller's session), so what it applied stays applied even if the
caller's process is killed a moment later.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from promoflow.connectors.ports import ConnectorError, ConnectorUnavailable
from promoflow.connectors.sandbox import faults, repository
from promoflow.connectors.sandbox.models import SandboxReceipt, SandboxRequest
from promoflow.kit.clock import utcnow
from promoflow.kit.db import transaction
from promoflow.migrate import ensure_demo

T = TypeVar("T")


class Rejected(Exception):
    """Raised inside an operation: the system refuses the request (nothing is applied)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class SandboxSystem:
    """Base of the sandbox connectors."""

    system: str = "sandbox"
    reference_prefix: str = "SBX"

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        # The estate's tables are the demo migration branch, not the production
        # schema: the first system built on a database installs them.
        ensure_demo(sessions)
        self.sessions = sessions

    def call(self, operation: str, key: str, apply: Callable[[Session], T]) -> T:
        """Run `apply` as one remote call: latency, outages and errors first, then its work."""
        current = faults.read_faults(self.sessions, self.system)
        # Half the latency before the work and half after, so a caller killed
        # mid-call may leave the work done but the answer unseen (as on a network).
        pause = current.latency_ms / 2000.0
        if pause:
            time.sleep(pause)
        self._raise_injected(current, operation, key)
        try:
            result = self._apply(operation, key, apply)
        except Rejected as refusal:
            self.log(operation, key, "rejected", refusal.reason)
            raise ConnectorError(
                self.system, f"{operation} {key!r} rejected: {refusal.reason}", retryable=False
            ) from None
        if pause:
            time.sleep(pause)
        return result

    def _apply(self, operation: str, key: str, apply: Callable[[Session], T]) -> T:
        try:
            with transaction(self.sessions) as session:
                return apply(session)
        except IntegrityError:
            # A concurrent call with the same key won the race; this attempt now
            # finds its receipt and answers as a duplicate.
            with transaction(self.sessions) as session:
                return apply(session)

    def _raise_injected(self, current: faults.Faults, operation: str, key: str) -> None:
        window = current.outage_at(utcnow())
        if window is not None:
            until = f"{window[1]:%Y-%m-%d %H:%M:%S} UTC"
            self.log(operation, key, "outage", f"down until {until}")
            raise ConnectorUnavailable(self.system, f"outage window until {until}; retry after it")
        if current.fail_next and faults.take_forced_failure(self.sessions, self.system):
            self.log(operation, key, "error", "forced failure (fail_next)")
            raise ConnectorError(self.system, f"{operation} {key!r} failed (injected)")
        if current.error_rate:
            with transaction(self.sessions) as session:
                attempt = faults.attempt_number(session, self.system, operation, key)
            if faults.injected_error(current, self.system, operation, key, attempt):
                self.log(operation, key, "error", f"error_rate {current.error_rate}")
                raise ConnectorError(
                    self.system, f"{operation} {key!r} failed on attempt {attempt + 1} (injected)"
                )

    def log(self, operation: str, key: str, outcome: str, detail: str = "") -> None:
        """Record a call that did not reach the system's state (its own transaction)."""
        with transaction(self.sessions) as session:
            self.record(session, operation, key, outcome, detail)

    def record(
        self, session: Session, operation: str, key: str, outcome: str, detail: str = ""
    ) -> None:
        """Record a call inside the transaction that did its work."""
        session.add(
            SandboxRequest(
                system=self.system,
                operation=operation,
                key=key,
                outcome=outcome,
                detail=detail[:2000],
                at=utcnow(),
            )
        )

    def first_receipt(self, session: Session, operation: str, key: str) -> SandboxReceipt | None:
        """The receipt of an earlier call with the same key, if there was one."""
        return repository.first_receipt(session, self.system, operation, key)

    def new_receipt(
        self, session: Session, operation: str, key: str, accepted: int
    ) -> SandboxReceipt:
        """Store the answer to a first call so a repeat gets the same one."""
        receipt = SandboxReceipt(
            system=self.system,
            operation=operation,
            key=key,
            accepted=accepted,
            external_ref="",
            created_at=utcnow(),
        )
        session.add(receipt)
        session.flush()
        receipt.external_ref = f"{self.reference_prefix}-{receipt.id:06d}"
        return receipt


def requests(
    sessions: sessionmaker[Session], system: str, operation: str | None = None
) -> list[dict[str, Any]]:
    """Every call `system` received, oldest first: operation, key, outcome, detail, at."""
    with transaction(sessions) as session:
        return [
            {
                "system": row.system,
                "operation": row.operation,
                "key": row.key,
                "outcome": row.outcome,
                "detail": row.detail,
                "at": row.at,
            }
            for row in repository.requests_received(session, system, operation)
        ]

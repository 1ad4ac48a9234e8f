"""One create at a time per idempotency key, for systems that enforce no key of their own.

SAP's API_PURCHASEORDER_PROCESS_SRV, Oracle Fusion, Business Central and Odoo take
no idempotency key on create: their connectors look the order up first and create
it only when they find none. Two workers with the same key at the same instant
both find nothing and both create. So a worker first commits a claim row, unique
per connection, operation and key (`integration.models.OutboundClaim`), and only
the claim's holder calls the system; a second worker finds the claim and waits
for the holder's result instead of creating.

The holder renews its lease while the call runs. A holder whose call failed
releases the claim; a holder that died stops renewing. Either way the next worker
takes the claim over and runs the connector's look-up-then-create again, which
finds whatever the first holder did create before it stopped.
"""

from __future__ import annotations

import os
import socket
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from promoflow.connectors.ports import (
    ConnectorUnavailable,
    PurchaseOrderAck,
    PurchaseOrderCancellation,
    PurchaseOrderRequest,
    PurchaseOrderSystem,
)
from promoflow.integration import repository as ledger
from promoflow.kit.clock import utcnow
from promoflow.kit.db import transaction
from promoflow.kit.logging import get_logger

log = get_logger(__name__)


@dataclass(frozen=True)
class ClaimPolicy:
    """How long a claim holds without renewal, and how long a second worker waits for it."""

    lease_seconds: float = 30.0
    wait_seconds: float = 120.0
    poll_seconds: float = 0.1


def _holder() -> str:
    host = socket.gethostname()[:60]
    return f"{host}/{os.getpid()}/{threading.get_ident() % 100000}/{uuid.uuid4().hex[:8]}"


@dataclass
class _Outcome:
    """What the ledger says for one key: a result, our own claim, or someone else's."""

    result: str | None = None
    claim_id: int | None = None
    holder: str = ""
    since: datetime | None = None


def _try_claim(
    sessions: sessionmaker[Session],
    connection: str,
    operation: str,
    key: str,
    me: str,
    policy: ClaimPolicy,
) -> _Outcome:
    """One committed attempt to hold the key (or learn its result)."""
    now = utcnow()
    lease = now + timedelta(seconds=policy.lease_seconds)
    try:
        with transaction(sessions) as session:
            row = ledger.find_claim(session, connection, operation, key)
            if row is None:
                claim_id = ledger.add_claim(session, connection, operation, key, me, now, lease)
                return _Outcome(claim_id=claim_id)
            if row.state == "done":
                return _Outcome(result=row.result)
            # Compare-and-set: of two workers taking over the same lapsed claim, one wins.
            if ledger.take_over_claim(session, row.id, me, lease, now):
                log.warning(
                    "outbound_claim_taken_over",
                    connection=connection,
                    operation=operation,
                    key=key,
                    previous=row.holder,
                )
                return _Outcome(claim_id=row.id)
            return _Outcome(holder=row.holder, since=row.claimed_at)
    except IntegrityError:
        # Another worker inserted the claim between our read and our insert.
        return _Outcome(holder="another worker")


def _finish(
    sessions: sessionmaker[Session], claim_id: int, me: str, values: dict[str, Any]
) -> None:
    with transaction(sessions) as session:
        ledger.finish_claim(session, claim_id, me, utcnow(), values)


class _Lease:
    """Renews the claim's lease in the background while the holder's call runs."""

    def __init__(
        self, sessions: sessionmaker[Session], claim_id: int, me: str, policy: ClaimPolicy
    ) -> None:
        self._sessions, self._claim_id, self._me, self._policy = sessions, claim_id, me, policy
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._renew, daemon=True, name="claim-lease")

    def __enter__(self) -> _Lease:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=self._policy.lease_seconds)

    def _renew(self) -> None:
        while not self._stop.wait(self._policy.lease_seconds / 3):
            until = utcnow() + timedelta(seconds=self._policy.lease_seconds)
            try:
                with transaction(self._sessions) as session:
                    ledger.renew_claim(session, self._claim_id, self._me, until)
            except Exception as error:  # a missed renewal only shortens the lease
                log.warning("outbound_claim_not_renewed", claim=self._claim_id, error=str(error))


def create_once(
    sessions: sessionmaker[Session],
    connection: str,
    operation: str,
    key: str,
    create: Callable[[], str],
    policy: ClaimPolicy | None = None,
) -> str:
    """Run `create()` for `key` in one worker at a time; every caller gets its one result."""
    policy = policy or ClaimPolicy()
    me = _holder()
    deadline = time.monotonic() + policy.wait_seconds
    while True:
        outcome = _try_claim(sessions, connection, operation, key, me, policy)
        if outcome.result is not None:
            return outcome.result
        if outcome.claim_id is not None:
            return _run_claimed(sessions, outcome.claim_id, me, create, policy)
        if time.monotonic() >= deadline:
            raise ConnectorUnavailable(
                connection,
                f"{operation} {key!r}: another worker ({outcome.holder}) has been creating it "
                f"since {outcome.since}; try again once it has finished",
            )
        time.sleep(policy.poll_seconds)


def _run_claimed(
    sessions: sessionmaker[Session],
    claim_id: int,
    me: str,
    create: Callable[[], str],
    policy: ClaimPolicy,
) -> str:
    try:
        with _Lease(sessions, claim_id, me, policy):
            result = create()
    except BaseException as error:
        _finish(sessions, claim_id, me, {"state": "released", "detail": str(error)[:2000]})
        raise
    _finish(sessions, claim_id, me, {"state": "done", "result": result, "detail": ""})
    return result


class ClaimedPurchaseOrders:
    """A connection's purchase-order port whose creates go through the claim ledger."""

    def __init__(
        self,
        inner: PurchaseOrderSystem,
        sessions: sessionmaker[Session],
        connection: str,
        policy: ClaimPolicy | None = None,
    ) -> None:
        self.inner = inner
        self.system = inner.system
        self._sessions = sessions
        self._connection = connection
        self._policy = policy

    def submit_purchase_order(self, key: str, order: PurchaseOrderRequest) -> str:
        """Send a PO to the supplier once per key, whichever worker asks first."""
        return create_once(
            self._sessions,
            self._connection,
            "submit_purchase_order",
            key,
            lambda: self.inner.submit_purchase_order(key, order),
            self._policy,
        )

    def acknowledgements(self, numbers: list[str]) -> list[PurchaseOrderAck]:
        """Acknowledgements received so far for the given PO numbers."""
        return self.inner.acknowledgements(numbers)

    def cancel_purchase_order(self, key: str, number: str) -> PurchaseOrderCancellation:
        """Cancel a PO unless its supplier confirmed it (each connector checks its state)."""
        return self.inner.cancel_purchase_order(key, number)

    def __getattr__(self, name: str) -> Any:
        # Anything else the connector offers (close, acknowledge, ...) is its own.
        return getattr(self.inner, name)

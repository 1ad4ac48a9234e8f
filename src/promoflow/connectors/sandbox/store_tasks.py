"""Sandbox store-operations system: tasks sent to stores, confirmed by store staff."""

from __future__ import annotations

import hashlib
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from promoflow.connectors.ports import PublicationReceipt, StoreTaskRequest
from promoflow.connectors.sandbox import repository
from promoflow.connectors.sandbox.client import Rejected, SandboxSystem
from promoflow.connectors.sandbox.models import SandboxStoreTask
from promoflow.kit.clock import utcnow
from promoflow.kit.db import transaction
from promoflow.kit.errors import InvalidInput


class SandboxStoreTasks(SandboxSystem):
    """Creates store tasks once per key."""

    system = "sandbox-store-tasks"
    reference_prefix = "TASK"

    def create_tasks(self, key: str, tasks: list[StoreTaskRequest]) -> PublicationReceipt:
        """Create store tasks (signage, display) once per key."""

        def apply(session: Session) -> PublicationReceipt:
            earlier = self.first_receipt(session, "create_tasks", key)
            if earlier is not None:
                self.record(session, "create_tasks", key, "duplicate")
                return PublicationReceipt(
                    key, self.system, earlier.accepted, earlier.external_ref, duplicate=True
                )
            codes = {t.location_code for t in tasks}
            known = repository.known_location_codes(session, codes)
            if codes - known:
                raise Rejected(f"unknown store(s) {', '.join(sorted(codes - known)[:5])}")
            unique = {(t.location_code, t.kind): t for t in tasks}
            now = utcnow()
            for task in unique.values():
                session.add(
                    SandboxStoreTask(
                        request_key=key,
                        location_code=task.location_code,
                        kind=task.kind,
                        promotion_code=task.promotion_code,
                        due=task.due,
                        status="open",
                        created_at=now,
                    )
                )
            receipt = self.new_receipt(session, "create_tasks", key, len(unique))
            self.record(session, "create_tasks", key, "applied", f"{len(unique)} tasks")
            return PublicationReceipt(key, self.system, len(unique), receipt.external_ref)

        return self.call("create_tasks", key, apply)


def _chosen(seed: int, task: SandboxStoreTask, fraction: float) -> bool:
    text = f"{seed}|{task.promotion_code}|{task.location_code}|{task.kind}".encode()
    return int.from_bytes(hashlib.sha256(text).digest()[:8], "big") / 2**64 < fraction


def confirm_tasks(
    sessions: sessionmaker[Session], promotion_code: str, fraction: float = 1.0, seed: int = 0
) -> list[tuple[str, str]]:
    """Stores confirm about `fraction` of a promotion's open tasks (the same ones per seed).

    Returns the (location_code, kind) pairs confirmed by this call.
    """
    if not 0.0 <= fraction <= 1.0:
        raise InvalidInput("fraction", fraction, "must be between 0 and 1")
    confirmed: list[tuple[str, str]] = []
    with transaction(sessions) as session:
        now = utcnow()
        for task in repository.open_store_tasks(session, promotion_code):
            if fraction >= 1.0 or _chosen(seed, task, fraction):
                task.status = "confirmed"
                task.confirmed_at = now
                confirmed.append((task.location_code, task.kind))
    return confirmed


def store_tasks(sessions: sessionmaker[Session], promotion_code: str) -> list[dict[str, Any]]:
    """The tasks stores hold for a promotion, with their status."""
    with transaction(sessions) as session:
        return [
            {
                "location_code": t.location_code,
                "kind": t.kind,
                "due": t.due,
                "status": t.status,
                "confirmed_at": t.confirmed_at,
            }
            for t in repository.store_tasks_of(session, promotion_code)
        ]

"""How the lifecycle workflow waits: for a signal, or for a person's decision on a case.

Called from workflow bodies only, so no clock, randomness or I/O here either; every
wait is a `DBOS.recv` with an explicit timeout, and a cancel ends any of them.
"""

from __future__ import annotations

from typing import Any

from dbos import DBOS

from promoflow.exceptions.schemas import CaseAction, CaseStatus
from promoflow.lifecycle import case_tx
from promoflow.lifecycle.signals import TOPIC
from promoflow.lifecycle.timing import LifecycleTiming
from promoflow.runtime import run_tx


class Cancelled(Exception):
    """Raised inside the workflow when an operator cancels; carries who and why."""

    def __init__(self, actor: str, reason: str) -> None:
        super().__init__(reason)
        self.actor = actor
        self.reason = reason


def wait(timeout: float) -> dict[str, Any] | None:
    """Wait for a signal up to `timeout` seconds (None when it lapses).

    A cancel signal raises Cancelled, and so does an exception case resolved with
    cancel_promotion, whichever case it was and wherever the workflow waits.
    """
    message: dict[str, Any] | None = DBOS.recv(TOPIC, timeout_seconds=max(0.0, timeout))
    if not message:
        return message
    if message.get("kind") == "cancel":
        raise Cancelled(
            str(message.get("actor", "operator")), str(message.get("reason", "cancelled"))
        )
    if message.get("kind") == "exception" and message.get("action") == CaseAction.CANCEL_PROMOTION:
        reason = message.get("reason") or f"cancelled from exception case {message.get('case_id')}"
        raise Cancelled(str(message.get("actor", "operator")), str(reason))
    return message


def await_case(case_id: int, timing: LifecycleTiming) -> str:
    """Wait for an operator's decision on a case; re-alert each time the wait lapses."""
    while True:
        state = run_tx(case_tx.case_state, case_id)
        if state["status"] == CaseStatus.RESOLVED:
            if state["resolution"] == CaseAction.CANCEL_PROMOTION:
                raise Cancelled(
                    str(state["resolved_by"] or "operator"),
                    state["reason"] or f"cancelled from exception case {case_id}",
                )
            return str(state["resolution"])
        if wait(timing.operator_wait_seconds) is None:
            run_tx(case_tx.case_reminder, case_id)

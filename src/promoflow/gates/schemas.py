"""What crosses the gates boundary: a gate's status and one evaluation round's outcome.

A `GateStatus` member equals its text, so rows, events and API payloads keep
plain strings.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from promoflow.gates.models import GateResult


class GateStatus(StrEnum):
    PASS = "pass"  # noqa: S105 (a gate status, not a password)
    FAIL = "fail"
    WAIVED = "waived"


GATE_STATUSES: tuple[GateStatus, ...] = tuple(GateStatus)


class Gate(StrEnum):
    """The launch gates, in policy order (`gates.policy.GatesConfig` has one field each)."""

    INVENTORY_COVERAGE = "inventory_coverage"
    STOCKOUT_RISK = "stockout_risk"
    OVERSTOCK_RISK = "overstock_risk"
    SUPPLIER_COMMITMENTS = "supplier_commitments"
    PRICE_VALIDITY = "price_validity"
    APPROVALS_COMPLETE = "approvals_complete"
    STORE_READINESS = "store_readiness"
    CHANNEL_READINESS = "channel_readiness"


@dataclass(frozen=True)
class GateRound:
    """One evaluation round of a revision's gates, after standing waivers."""

    promotion_id: int
    revision: int
    evaluation: int
    policy_version: str
    results: list[GateResult]
    launch_ready: bool
    failing: list[str]  # blocking gates neither passed nor waived
    advisory: list[str]  # non-blocking gates that failed

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

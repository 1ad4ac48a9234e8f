"""What crosses the publications boundary: a publication's and a store task's status.

Each member equals its text, so rows, events and API payloads keep plain strings.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class PublicationStatus(StrEnum):
    PENDING = "pending"
    PUBLISHED = "published"
    FAILED = "failed"
    SKIPPED = "skipped"  # waived in an exception case
    REVERTED = "reverted"  # withdrawn when the promotion was cancelled


class StoreTaskStatus(StrEnum):
    OPEN = "open"
    CONFIRMED = "confirmed"


@dataclass(frozen=True)
class ChannelProgress:
    """How far one channel's publication of a revision has got, part by part.

    `outcomes` holds each attempted part's latest outcome (applied, duplicate or
    failed); parts never attempted are absent. `prices` and `parts` are what the
    channel must receive, cut as the workflow cuts them.
    """

    channel: str
    status: str
    prices: int
    parts: int
    outcomes: dict[int, str]
    attempts: int
    last_error: str
    publication_key: str | None

    @property
    def parts_done(self) -> int:
        return sum(1 for outcome in self.outcomes.values() if outcome in DONE_OUTCOMES)

    @property
    def parts_failed(self) -> int:
        return sum(1 for outcome in self.outcomes.values() if outcome == "failed")


DONE_OUTCOMES = frozenset({"applied", "duplicate"})

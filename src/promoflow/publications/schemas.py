"""What crosses the publications boundary: a publication's and a store task's status.

Each member equals its text, so rows, events and API payloads keep plain strings.
"""

from __future__ import annotations

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

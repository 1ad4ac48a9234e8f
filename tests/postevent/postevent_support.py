"""What the post-event tests share besides fixtures."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session, sessionmaker


@dataclass(frozen=True)
class History:
    """The seeded database: its URL (for processes) and sessions (for the test)."""

    url: str
    sessions: sessionmaker[Session]

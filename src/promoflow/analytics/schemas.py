"""What the analytics take as filters: the promotions and the period a question is about."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from promoflow.promotions.models import MECHANICS as MECHANICS  # the filter's values


@dataclass(frozen=True)
class AnalyticsFilter:
    """Which promotions count: by their terms and scope, and when their revision started."""

    category: str | None = None
    region: str | None = None
    banner: str | None = None
    mechanic: str | None = None
    since: datetime | None = None  # revisions whose first event is at or after this
    until: datetime | None = None  # ... and before this

    def as_dict(self) -> dict[str, str | None]:
        """The filter as the reports echo it."""
        return {
            "category": self.category,
            "region": self.region,
            "banner": self.banner,
            "mechanic": self.mechanic,
            "since": self.since.isoformat() if self.since else None,
            "until": self.until.isoformat() if self.until else None,
        }

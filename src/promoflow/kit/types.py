"""Column types and helpers shared by the ORM models."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated, Any

import sqlalchemy as sa
from sqlalchemy.orm import mapped_column

from promoflow.kit.clock import utcnow


class UtcDateTime(sa.TypeDecorator[datetime]):
    """Timezone-aware UTC in and out on every backend.

    SQLite has no time zone type and hands back naive values; comparing those with
    aware ones fails, so every timestamp is normalised to aware UTC here, once.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: pass an aware UTC datetime")
        return value.astimezone(UTC) if value is not None else None

    def process_result_value(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


Money = Annotated[Decimal, mapped_column(sa.Numeric(12, 2))]
Quantity = Annotated[float, mapped_column(sa.Float, default=0.0)]
Timestamp = Annotated[datetime, mapped_column(UtcDateTime(), default=utcnow)]
JsonDict = Annotated[dict[str, Any], mapped_column(sa.JSON, default=dict)]
JsonList = Annotated[list[Any], mapped_column(sa.JSON, default=list)]

"""Column types and helpers shared by the ORM models."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any

import sqlalchemy as sa
from sqlalchemy.orm import mapped_column

from promoflow.kit.clock import utcnow

Money = Annotated[Decimal, mapped_column(sa.Numeric(12, 2))]
Quantity = Annotated[float, mapped_column(sa.Float, default=0.0)]
Timestamp = Annotated[datetime, mapped_column(sa.DateTime(timezone=True), default=utcnow)]
JsonDict = Annotated[dict[str, Any], mapped_column(sa.JSON, default=dict)]
JsonList = Annotated[list[Any], mapped_column(sa.JSON, default=list)]

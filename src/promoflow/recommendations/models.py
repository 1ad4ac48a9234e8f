"""A recommendation (allocation or replenishment) for one promotion revision, and its lines."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from promoflow.kit.db import Base
from promoflow.kit.types import JsonDict, Timestamp, UtcDateTime
from promoflow.recommendations.schemas import OPEN_STATUS as OPEN_STATUS  # re-exported
from promoflow.recommendations.schemas import RECOMMENDATION_KINDS as RECOMMENDATION_KINDS
from promoflow.recommendations.schemas import RECOMMENDATION_STATUSES as RECOMMENDATION_STATUSES

# The one-open-per-revision index holds only rows waiting for a decision.
_WAITING = sa.column("status", sa.String) == str(OPEN_STATUS)


class Recommendation(Base):
    """What the planner model proposed, which model and inputs, and who decided what."""

    __tablename__ = "recommendations"

    id: Mapped[int] = mapped_column(primary_key=True)
    promotion_id: Mapped[int] = mapped_column(sa.ForeignKey("promotions.id"), index=True)
    revision: Mapped[int]
    kind: Mapped[str] = mapped_column(sa.String(16))
    status: Mapped[str] = mapped_column(sa.String(16), default=OPEN_STATUS)
    model_version: Mapped[str] = mapped_column(sa.String(64))
    inputs_hash: Mapped[str] = mapped_column(sa.String(64))
    summary: Mapped[JsonDict]
    # What the policy decided (apply automatically or ask a person) and the figures why.
    threshold: Mapped[JsonDict]
    created_at: Mapped[Timestamp]
    decided_by: Mapped[str | None] = mapped_column(sa.String(80))
    decided_role: Mapped[str | None] = mapped_column(sa.String(40))
    decided_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    reason: Mapped[str | None] = mapped_column(sa.Text)
    superseded_by: Mapped[int | None] = mapped_column(sa.ForeignKey("recommendations.id"))
    # Bumped by every ORM UPDATE, which also checks it (see kit/preconditions.py): the ETag.
    row_version: Mapped[int] = mapped_column(default=1, server_default="1")

    __table_args__ = (
        sa.CheckConstraint("kind IN ('allocation','replenishment')", name="kind"),
        sa.CheckConstraint(
            "status IN ('proposed','auto_applied','accepted','edited','rejected','superseded')",
            name="status",
        ),
        # At most one open recommendation of a kind per revision, even under races.
        sa.Index(
            "uq_recommendations_one_open",
            "promotion_id",
            "revision",
            "kind",
            unique=True,
            sqlite_where=_WAITING,
            postgresql_where=_WAITING,
        ),
    )

    __mapper_args__ = {"version_id_col": row_version}  # noqa: RUF012 (SQLAlchemy reads it once)


class RecommendationLine(Base):
    """Move `quantity` of an item from a source (DC or supplier) to a location."""

    __tablename__ = "recommendation_lines"

    id: Mapped[int] = mapped_column(primary_key=True)
    recommendation_id: Mapped[int] = mapped_column(
        sa.ForeignKey("recommendations.id", ondelete="CASCADE"), index=True
    )
    item_id: Mapped[int] = mapped_column(sa.ForeignKey("items.id"))
    # The destination: a store, or a DC when replenishing the DC.
    location_id: Mapped[int] = mapped_column(sa.ForeignKey("locations.id"))
    # A DC's location id (allocation) or a supplier id (replenishment): no foreign key.
    source_id: Mapped[int]
    quantity_proposed: Mapped[float]
    quantity_decided: Mapped[float | None]
    expected_service_level: Mapped[float | None]
    details: Mapped[JsonDict]

    __table_args__ = (
        sa.UniqueConstraint(
            "recommendation_id",
            "item_id",
            "location_id",
            "source_id",
            name="uq_recommendation_lines_route",
        ),
        sa.CheckConstraint("quantity_proposed >= 0", name="quantity_proposed"),
        sa.CheckConstraint("quantity_decided >= 0", name="quantity_decided"),
    )

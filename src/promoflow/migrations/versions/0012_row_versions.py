"""a version counter on every row the API lets a client change: its ETag, checked by If-Match

SQLAlchemy bumps `row_version` on every UPDATE through the ORM (`version_id_col`) and
adds `WHERE row_version = <the one read>` to it, so a change made from a stale read
fails instead of overwriting. Existing rows start at 1.

Revision ID: 0012_row_versions
Revises: 0011_idempotency_keys
Create Date: 2026-12-06 17:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012_row_versions"
down_revision: str | None = "0011_idempotency_keys"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

VERSIONED = (
    "promotions",
    "approval_tasks",
    "exception_cases",
    "recommendations",
    "connections",
    "dead_letters",
)


# Plain ALTER TABLE, not batch mode: SQLite (3.35 and later) adds and drops a column
# like this in place, where a batch copy would drop `promotions`, which other tables'
# foreign keys refer to.


def upgrade() -> None:
    for table in VERSIONED:
        op.add_column(
            table,
            sa.Column("row_version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        )


def downgrade() -> None:
    for table in reversed(VERSIONED):
        op.drop_column(table, "row_version")

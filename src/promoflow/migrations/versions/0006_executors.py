"""executors: the processes sharing a PostgreSQL database, so a live one takes over a dead one

Revision ID: 0006_executors
Revises: 0005_gate_waiver_records
Create Date: 2026-12-06 11:30:00.000000

Each serve and worker process lists itself here while it holds its executor
id's advisory lock (promoflow.executors); a row whose lock is free belongs to a
process that died, whose pending workflows another process hands back to the
queues. Created on SQLite too, so the schema is one, though one SQLite file
serves one process and nothing is listed there.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006_executors"
down_revision: str | None = "0005_gate_waiver_records"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "executors",
        sa.Column("executor_id", sa.String(length=128), nullable=False),
        sa.Column("host", sa.String(length=255), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column("application_version", sa.String(length=64), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("executor_id", name=op.f("pk_executors")),
    )


def downgrade() -> None:
    op.drop_table("executors")

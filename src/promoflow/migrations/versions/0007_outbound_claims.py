"""purchase orders: a claim on each create sent to an ERP, so one worker creates

(The sandbox supplier portal's `cancelled_at`, added here before, now belongs to
the demo branch's first revision.)

Revision ID: 0007_outbound_claims
Revises: 0006_executors
Create Date: 2026-12-06 12:10:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007_outbound_claims"
down_revision: str | None = "0006_executors"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "outbound_claims",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("connection", sa.String(length=64), nullable=False),
        sa.Column("operation", sa.String(length=40), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("holder", sa.String(length=120), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("result", sa.String(length=200), nullable=True),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "state IN ('claimed','done','released')", name=op.f("ck_outbound_claims_state")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbound_claims")),
        sa.UniqueConstraint(
            "connection",
            "operation",
            "key",
            name=op.f("uq_outbound_claims_connection_operation_key"),
        ),
    )


def downgrade() -> None:
    op.drop_table("outbound_claims")

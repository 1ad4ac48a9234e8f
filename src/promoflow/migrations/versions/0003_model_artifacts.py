"""model artefacts beside the registry; forecast lines gain a P80

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27 19:20:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "model_artifacts",
        sa.Column("version", sa.String(length=64), nullable=False),
        sa.Column("format", sa.String(length=16), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("size_bytes", sa.Integer(), nullable=False),
        sa.Column("payload", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["version"],
            ["model_versions.version"],
            name=op.f("fk_model_artifacts_version_model_versions"),
        ),
        sa.PrimaryKeyConstraint("version", name=op.f("pk_model_artifacts")),
    )
    with op.batch_alter_table("promotion_forecasts", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("p80", sa.Double(), server_default=sa.text("0"), nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("promotion_forecasts", schema=None) as batch_op:
        batch_op.drop_column("p80")
    op.drop_table("model_artifacts")

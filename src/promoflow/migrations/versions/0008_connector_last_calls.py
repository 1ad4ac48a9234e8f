"""connector health keeps the connection's last calls, for `connectors diagnostics`

Revision ID: 0008_connector_last_calls
Revises: 0007_outbound_claims
Create Date: 2026-12-08 10:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008_connector_last_calls"
down_revision: str | None = "0007_outbound_claims"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Existing health rows start with no calls listed; the server default fills them.
    with op.batch_alter_table("connector_health", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("last_calls", sa.JSON(), server_default=sa.text("'[]'"), nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("connector_health", schema=None) as batch_op:
        batch_op.drop_column("last_calls")

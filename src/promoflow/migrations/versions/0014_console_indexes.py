"""indexes the console's pages read through: gate rounds by promotion, promotions by launch

"The newest gate round of the current revision" is asked of every promotion a console
list shows (readiness, risk); the Promotions list pages by (start_date, id). Declared
in console/models.py.

Revision ID: 0014_console_indexes
Revises: 0013_console_sessions
Create Date: 2026-12-06 20:30:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0014_console_indexes"
down_revision: str | None = "0013_console_sessions"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_gate_results_round", "gate_results", ["promotion_id", "revision", "evaluation"]
    )
    op.create_index("ix_promotions_start_date_id", "promotions", ["start_date", "id"])


def downgrade() -> None:
    op.drop_index("ix_promotions_start_date_id", table_name="promotions")
    op.drop_index("ix_gate_results_round", table_name="gate_results")

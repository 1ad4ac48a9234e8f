"""demo: the scenario's truth keeps each promoted week's demand and sales without the promotion

`scenario_promotion_truth` gains `counterfactual_demand_units` and
`counterfactual_sold_units`, so the post-event analysis can be scored against the
generator's true incremental units. Both are nullable: a database seeded before
keeps its rows, which simply have no counterfactual.

Revision ID: demo_0002
Revises: demo_0001
Create Date: 2026-12-07 02:40:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "demo_0002"
down_revision: str | None = "demo_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = ("counterfactual_demand_units", "counterfactual_sold_units")


def upgrade() -> None:
    present = {c["name"] for c in sa.inspect(op.get_bind()).get_columns("scenario_promotion_truth")}
    missing = [name for name in COLUMNS if name not in present]
    if not missing:  # a table created from the live models already has them
        return
    with op.batch_alter_table("scenario_promotion_truth", schema=None) as batch_op:
        for name in missing:
            batch_op.add_column(sa.Column(name, sa.Double(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("scenario_promotion_truth", schema=None) as batch_op:
        for name in reversed(COLUMNS):
            batch_op.drop_column(name)

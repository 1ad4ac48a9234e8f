"""gate waivers become records: an id of their own instead of one row per gate and revision

Revision ID: 0005_gate_waiver_records
Revises: 0004
Create Date: 2026-12-06 10:40:00.000000

A second waiver of a gate used to overwrite the first (the primary key was
promotion, revision, gate), so the audit trail lost who waived first and why.
Existing rows keep their content and get ids of their own.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005_gate_waiver_records"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = "promotion_id, revision, gate, waived_by, role, reason, waived_at"


def _waivers_table(name: str, *, keyed_by_id: bool) -> None:
    id_column = [sa.Column("id", sa.Integer(), nullable=False)] if keyed_by_id else []
    key = ["id"] if keyed_by_id else ["promotion_id", "revision", "gate"]
    op.create_table(
        name,
        *id_column,
        sa.Column("promotion_id", sa.Integer(), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("gate", sa.String(length=48), nullable=False),
        sa.Column("waived_by", sa.String(length=80), nullable=False),
        sa.Column("role", sa.String(length=40), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("waived_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["promotion_id"],
            ["promotions.id"],
            name=op.f("fk_gate_waivers_promotion_id_promotions"),
        ),
        sa.PrimaryKeyConstraint(*key, name=op.f("pk_gate_waivers")),
    )


def _copy_sqlite(*, keyed_by_id: bool, select: str) -> None:
    # SQLite cannot change a primary key in place: build the new table and copy.
    op.rename_table("gate_waivers", "gate_waivers_old")
    _waivers_table("gate_waivers", keyed_by_id=keyed_by_id)
    op.execute(f"INSERT INTO gate_waivers ({COLUMNS}) {select}")
    op.drop_table("gate_waivers_old")


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        _copy_sqlite(
            keyed_by_id=True,
            select=f"SELECT {COLUMNS} FROM gate_waivers_old ORDER BY waived_at",
        )
    else:
        op.drop_constraint("pk_gate_waivers", "gate_waivers", type_="primary")
        # SERIAL numbers the existing rows and owns its sequence, as CREATE TABLE would.
        op.execute("ALTER TABLE gate_waivers ADD COLUMN id SERIAL NOT NULL")
        op.create_primary_key("pk_gate_waivers", "gate_waivers", ["id"])
    op.create_index(op.f("ix_gate_waivers_promotion_id"), "gate_waivers", ["promotion_id"])


def downgrade() -> None:
    # One row per gate and revision again: the newest waiver of each is kept.
    op.drop_index(op.f("ix_gate_waivers_promotion_id"), table_name="gate_waivers")
    newest = "SELECT max(id) FROM {table} GROUP BY promotion_id, revision, gate"
    if op.get_bind().dialect.name == "sqlite":
        _copy_sqlite(
            keyed_by_id=False,
            select=f"SELECT {COLUMNS} FROM gate_waivers_old WHERE id IN "
            f"({newest.format(table='gate_waivers_old')})",
        )
        return
    op.execute(f"DELETE FROM gate_waivers WHERE id NOT IN ({newest.format(table='gate_waivers')})")
    op.drop_constraint("pk_gate_waivers", "gate_waivers", type_="primary")
    op.drop_column("gate_waivers", "id")
    op.create_primary_key("pk_gate_waivers", "gate_waivers", ["promotion_id", "revision", "gate"])

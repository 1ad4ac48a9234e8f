"""forecasting governance: model registry, post-event accuracy, recommendations

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27 19:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "model_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("training_start", sa.String(length=32), nullable=False),
        sa.Column("training_end", sa.String(length=32), nullable=False),
        sa.Column("features", sa.JSON(), nullable=False),
        sa.Column("data_hash", sa.String(length=64), nullable=False),
        sa.Column("backtest_metrics", sa.JSON(), nullable=False),
        sa.Column("backtest_model", sa.String(length=64), nullable=False),
        sa.Column("backtest_cutoff", sa.String(length=32), nullable=False),
        sa.Column("backtest_horizon", sa.Integer(), nullable=True),
        sa.Column("parameters", sa.JSON(), nullable=False),
        sa.Column("registered_by", sa.String(length=80), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("promoted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("promoted_by", sa.String(length=80), nullable=True),
        sa.Column("approved_by", sa.String(length=80), nullable=True),
        sa.Column("approver_role", sa.String(length=40), nullable=True),
        sa.Column("policy_version", sa.String(length=32), nullable=True),
        sa.Column("retired_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("retired_by", sa.String(length=80), nullable=True),
        sa.Column("status_reason", sa.Text(), nullable=False),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.CheckConstraint(
            "status IN ('candidate','champion','retired')", name=op.f("ck_model_versions_status")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_model_versions")),
        sa.UniqueConstraint("version", name=op.f("uq_model_versions_version")),
    )
    with op.batch_alter_table("model_versions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_model_versions_kind"), ["kind"], unique=False)
        batch_op.create_index(
            "uq_model_versions_one_champion_per_kind",
            ["kind"],
            unique=True,
            sqlite_where=sa.text("status = 'champion'"),
            postgresql_where=sa.text("status = 'champion'"),
        )

    op.create_table(
        "promotion_forecast_accuracy",
        sa.Column("promotion_id", sa.Integer(), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("model_version", sa.String(length=64), nullable=False),
        sa.Column("inputs_hash", sa.String(length=64), nullable=False),
        sa.Column("lines", sa.Integer(), nullable=False),
        sa.Column("lines_without_actuals", sa.Integer(), nullable=False),
        sa.Column("forecast_units", sa.Double(), nullable=False),
        sa.Column("baseline_units", sa.Double(), nullable=False),
        sa.Column("actual_units", sa.Double(), nullable=False),
        sa.Column("abs_error_units", sa.Double(), nullable=False),
        sa.Column("forecast_uplift_pct", sa.Double(), nullable=True),
        sa.Column("actual_uplift_pct", sa.Double(), nullable=True),
        sa.Column("wape", sa.Double(), nullable=True),
        sa.Column("bias", sa.Double(), nullable=True),
        sa.Column("lines_within_p10_p90", sa.Integer(), nullable=False),
        sa.Column("coverage_p10_p90", sa.Double(), nullable=True),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["promotion_id"],
            ["promotions.id"],
            name=op.f("fk_promotion_forecast_accuracy_promotion_id_promotions"),
        ),
        sa.PrimaryKeyConstraint(
            "promotion_id", "revision", name=op.f("pk_promotion_forecast_accuracy")
        ),
    )
    with op.batch_alter_table("promotion_forecast_accuracy", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_promotion_forecast_accuracy_model_version"),
            ["model_version"],
            unique=False,
        )

    op.create_table(
        "recommendations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("promotion_id", sa.Integer(), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("model_version", sa.String(length=64), nullable=False),
        sa.Column("inputs_hash", sa.String(length=64), nullable=False),
        sa.Column("summary", sa.JSON(), nullable=False),
        sa.Column("threshold", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_by", sa.String(length=80), nullable=True),
        sa.Column("decided_role", sa.String(length=40), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("superseded_by", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "kind IN ('allocation','replenishment')", name=op.f("ck_recommendations_kind")
        ),
        sa.CheckConstraint(
            "status IN ('proposed','auto_applied','accepted','edited','rejected','superseded')",
            name=op.f("ck_recommendations_status"),
        ),
        sa.ForeignKeyConstraint(
            ["promotion_id"],
            ["promotions.id"],
            name=op.f("fk_recommendations_promotion_id_promotions"),
        ),
        sa.ForeignKeyConstraint(
            ["superseded_by"],
            ["recommendations.id"],
            name=op.f("fk_recommendations_superseded_by_recommendations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recommendations")),
    )
    with op.batch_alter_table("recommendations", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_recommendations_promotion_id"), ["promotion_id"], unique=False
        )
        batch_op.create_index(
            "uq_recommendations_one_open",
            ["promotion_id", "revision", "kind"],
            unique=True,
            sqlite_where=sa.text("status = 'proposed'"),
            postgresql_where=sa.text("status = 'proposed'"),
        )

    op.create_table(
        "recommendation_lines",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("recommendation_id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("location_id", sa.Integer(), nullable=False),
        sa.Column("source_id", sa.Integer(), nullable=False),
        sa.Column("quantity_proposed", sa.Double(), nullable=False),
        sa.Column("quantity_decided", sa.Double(), nullable=True),
        sa.Column("expected_service_level", sa.Double(), nullable=True),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.CheckConstraint(
            "quantity_decided >= 0", name=op.f("ck_recommendation_lines_quantity_decided")
        ),
        sa.CheckConstraint(
            "quantity_proposed >= 0", name=op.f("ck_recommendation_lines_quantity_proposed")
        ),
        sa.ForeignKeyConstraint(
            ["item_id"], ["items.id"], name=op.f("fk_recommendation_lines_item_id_items")
        ),
        sa.ForeignKeyConstraint(
            ["location_id"],
            ["locations.id"],
            name=op.f("fk_recommendation_lines_location_id_locations"),
        ),
        sa.ForeignKeyConstraint(
            ["recommendation_id"],
            ["recommendations.id"],
            name=op.f("fk_recommendation_lines_recommendation_id_recommendations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recommendation_lines")),
        sa.UniqueConstraint(
            "recommendation_id",
            "item_id",
            "location_id",
            "source_id",
            name="uq_recommendation_lines_route",
        ),
    )
    with op.batch_alter_table("recommendation_lines", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_recommendation_lines_recommendation_id"),
            ["recommendation_id"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("recommendation_lines", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_recommendation_lines_recommendation_id"))

    op.drop_table("recommendation_lines")
    with op.batch_alter_table("recommendations", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_recommendations_one_open",
            sqlite_where=sa.text("status = 'proposed'"),
            postgresql_where=sa.text("status = 'proposed'"),
        )
        batch_op.drop_index(batch_op.f("ix_recommendations_promotion_id"))

    op.drop_table("recommendations")
    with op.batch_alter_table("promotion_forecast_accuracy", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_promotion_forecast_accuracy_model_version"))

    op.drop_table("promotion_forecast_accuracy")
    with op.batch_alter_table("model_versions", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_model_versions_one_champion_per_kind",
            sqlite_where=sa.text("status = 'champion'"),
            postgresql_where=sa.text("status = 'champion'"),
        )
        batch_op.drop_index(batch_op.f("ix_model_versions_kind"))

    op.drop_table("model_versions")

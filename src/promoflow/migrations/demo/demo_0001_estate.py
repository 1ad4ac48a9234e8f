"""demo: the sandbox estate and the scenario generator's tables, adopted where they exist

The first revision of the `demo` branch, which lives beside the production
branch (`core`, in `versions/`) and is installed only by `promoflow demo`,
`promoflow db upgrade --demo`, the first sandbox system built on a database, and
the tests. It depends on 0001 alone (the scenario tables refer to `items` and
`locations`), so production revisions can come and go without touching it.

Databases built before the split already have these tables: 0001 created them
and 0007 added `sandbox_purchase_orders.cancelled_at`. This revision adopts
them instead of failing on CREATE: it creates only the tables that are missing
(`checkfirst`), and adds `cancelled_at` where a table from before 0007 lacks it,
so their rows survive. The definitions below are the ones 0001 and 0007 used,
constraint names included, so an adopted table and a created one are the same.

The production branch, for its part, leaves such tables alone: dropping them in
a production revision would destroy a demo database's estate (and fail on
PostgreSQL while the foreign keys to `items` stand) for no gain, since nothing
in production reads them. An operator who wants them gone downgrades the demo
branch (`demo@base`), which drops all fifteen, adopted or created.

Revision ID: demo_0001
Revises:
Depends on: 0001
Create Date: 2026-12-06 14:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.schema import SchemaItem
from sqlalchemy.sql.elements import conv

revision: str = "demo_0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = ("demo",)
depends_on: str | Sequence[str] | None = "0001"

# A frozen copy of the tables as this revision knows them (never the live models).
FROZEN = sa.MetaData()
# Referred to by the scenario tables; production's, never created here.
sa.Table("items", FROZEN, sa.Column("id", sa.Integer(), primary_key=True))
sa.Table("locations", FROZEN, sa.Column("id", sa.Integer(), primary_key=True))


def _stamp(name: str) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=False)


def _item_location(table: str) -> list[SchemaItem]:
    return [
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("location_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["item_id"], ["items.id"], name=f"fk_{table}_item_id_items"),
        sa.ForeignKeyConstraint(
            ["location_id"], ["locations.id"], name=f"fk_{table}_location_id_locations"
        ),
    ]


DEMO_TABLES = [
    sa.Table(
        "sandbox_channel_prices",
        FROZEN,
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("system", sa.String(length=40), nullable=False),
        sa.Column("location_code", sa.String(length=32), nullable=False),
        sa.Column("sku", sa.String(length=32), nullable=False),
        sa.Column("price", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("regular_price", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("start", sa.Date(), nullable=False),
        sa.Column("end", sa.Date(), nullable=False),
        sa.Column("publication_key", sa.String(length=200), nullable=False),
        _stamp("applied_at"),
        sa.Column("reverted_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_sandbox_channel_prices"),
        sa.UniqueConstraint(
            "system",
            "publication_key",
            "sku",
            "location_code",
            # Over PostgreSQL's 63 characters: `conv` shortens it as 0001's `op.f` did.
            name=conv("uq_sandbox_channel_prices_system_publication_key_sku_location_code"),
        ),
        sa.Index("ix_sandbox_channel_prices_lookup", "system", "sku", "location_code"),
    ),
    sa.Table(
        "sandbox_faults",
        FROZEN,
        sa.Column("system", sa.String(length=40), nullable=False),
        sa.Column("latency_ms", sa.Integer(), nullable=False),
        sa.Column("error_rate", sa.Double(), nullable=False),
        sa.Column("outages", sa.JSON(), nullable=False),
        sa.Column("fail_next", sa.Integer(), nullable=False),
        sa.Column("seed", sa.Integer(), nullable=False),
        _stamp("updated_at"),
        sa.PrimaryKeyConstraint("system", name="pk_sandbox_faults"),
    ),
    sa.Table(
        "sandbox_finance_postings",
        FROZEN,
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_key", sa.String(length=200), nullable=False),
        sa.Column("promotion_code", sa.String(length=40), nullable=False),
        sa.Column("margin", sa.Numeric(precision=14, scale=2), nullable=False),
        sa.Column("vendor_funding", sa.Numeric(precision=14, scale=2), nullable=False),
        sa.Column("document_number", sa.String(length=40), nullable=False),
        _stamp("posted_at"),
        sa.PrimaryKeyConstraint("id", name="pk_sandbox_finance_postings"),
        sa.UniqueConstraint("request_key", name="uq_sandbox_finance_postings_request_key"),
    ),
    sa.Table(
        "sandbox_item_changes",
        FROZEN,
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sku", sa.String(length=32), nullable=False),
        sa.Column("fields", sa.JSON(), nullable=False),
        _stamp("changed_at"),
        sa.PrimaryKeyConstraint("id", name="pk_sandbox_item_changes"),
        sa.Index("ix_sandbox_item_changes_sku", "sku"),
    ),
    sa.Table(
        "sandbox_purchase_orders",
        FROZEN,
        sa.Column("number", sa.String(length=40), nullable=False),
        sa.Column("request_key", sa.String(length=200), nullable=False),
        sa.Column("supplier_code", sa.String(length=32), nullable=False),
        sa.Column("destination_code", sa.String(length=32), nullable=False),
        sa.Column("due", sa.Date(), nullable=False),
        sa.Column("lines", sa.JSON(), nullable=False),
        sa.Column("external_ref", sa.String(length=80), nullable=False),
        _stamp("submitted_at"),
        sa.Column("cancelled_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("number", name="pk_sandbox_purchase_orders"),
        sa.UniqueConstraint("request_key", name="uq_sandbox_purchase_orders_request_key"),
        sa.Index("ix_sandbox_purchase_orders_supplier_code", "supplier_code"),
    ),
    sa.Table(
        "sandbox_receipts",
        FROZEN,
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("system", sa.String(length=40), nullable=False),
        sa.Column("operation", sa.String(length=40), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("accepted", sa.Integer(), nullable=False),
        sa.Column("external_ref", sa.String(length=80), nullable=False),
        _stamp("created_at"),
        sa.PrimaryKeyConstraint("id", name="pk_sandbox_receipts"),
        sa.UniqueConstraint(
            "system", "operation", "key", name="uq_sandbox_receipts_system_operation_key"
        ),
    ),
    sa.Table(
        "sandbox_requests",
        FROZEN,
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("system", sa.String(length=40), nullable=False),
        sa.Column("operation", sa.String(length=40), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        _stamp("at"),
        sa.PrimaryKeyConstraint("id", name="pk_sandbox_requests"),
        sa.Index("ix_sandbox_requests_system_key", "system", "operation", "key"),
    ),
    sa.Table(
        "sandbox_stock",
        FROZEN,
        sa.Column("sku", sa.String(length=32), nullable=False),
        sa.Column("location_code", sa.String(length=32), nullable=False),
        sa.Column("on_hand", sa.Double(), nullable=False),
        sa.Column("on_order", sa.Double(), nullable=False),
        sa.Column("in_transit", sa.Double(), nullable=False),
        sa.Column("allocated", sa.Double(), nullable=False),
        _stamp("updated_at"),
        sa.PrimaryKeyConstraint("sku", "location_code", name="pk_sandbox_stock"),
    ),
    sa.Table(
        "sandbox_store_tasks",
        FROZEN,
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_key", sa.String(length=200), nullable=False),
        sa.Column("location_code", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("promotion_code", sa.String(length=40), nullable=False),
        sa.Column("due", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("confirmed_at", sa.DateTime(timezone=True), nullable=True),
        _stamp("created_at"),
        sa.PrimaryKeyConstraint("id", name="pk_sandbox_store_tasks"),
        sa.UniqueConstraint(
            "request_key",
            "location_code",
            "kind",
            name="uq_sandbox_store_tasks_request_key_location_code_kind",
        ),
        sa.Index("ix_sandbox_store_tasks_promotion_code", "promotion_code"),
    ),
    sa.Table(
        "sandbox_supplier_behaviour",
        FROZEN,
        sa.Column("supplier_code", sa.String(length=32), nullable=False),
        sa.Column("ack_after_seconds", sa.Double(), nullable=False),
        sa.Column("fill_rate", sa.Double(), nullable=False),
        sa.Column("never_ack", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("supplier_code", name="pk_sandbox_supplier_behaviour"),
    ),
    sa.Table(
        "scenario_category_params",
        FROZEN,
        sa.Column("category", sa.String(length=80), nullable=False),
        *(
            sa.Column(name, sa.Double(), nullable=False)
            for name in (
                "elasticity",
                "summer_amplitude",
                "holiday_amplitude",
                "wave_sin",
                "wave_cos",
                "cannibalisation",
                "post_promotion_dip",
            )
        ),
        sa.PrimaryKeyConstraint("category", name="pk_scenario_category_params"),
    ),
    sa.Table(
        "scenario_promotion_events",
        FROZEN,
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("category", sa.String(length=80), nullable=False),
        sa.Column("region", sa.String(length=64), nullable=True),
        sa.Column("mechanic", sa.String(length=16), nullable=False),
        sa.Column("nominal_depth", sa.Double(), nullable=False),
        sa.Column("display", sa.Boolean(), nullable=False),
        sa.Column("feature", sa.Boolean(), nullable=False),
        sa.Column("start_week", sa.Date(), nullable=False),
        sa.Column("end_week", sa.Date(), nullable=False),
        sa.Column("item_count", sa.Integer(), nullable=False),
        sa.Column("terms", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_scenario_promotion_events"),
        sa.UniqueConstraint("code", name="uq_scenario_promotion_events_code"),
    ),
    sa.Table(
        "scenario_runs",
        FROZEN,
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("seed", sa.Integer(), nullable=False),
        sa.Column("size", sa.JSON(), nullable=False),
        sa.Column("today", sa.Date(), nullable=False),
        sa.Column("history_start", sa.Date(), nullable=False),
        sa.Column("history_end", sa.Date(), nullable=False),
        sa.Column("summary", sa.JSON(), nullable=False),
        _stamp("created_at"),
        sa.PrimaryKeyConstraint("id", name="pk_scenario_runs"),
    ),
    sa.Table(
        "scenario_demand_params",
        FROZEN,
        *_item_location("scenario_demand_params"),
        sa.Column("base_rate", sa.Double(), nullable=False),
        sa.Column("elasticity", sa.Double(), nullable=False),
        sa.PrimaryKeyConstraint("item_id", "location_id", name="pk_scenario_demand_params"),
    ),
    sa.Table(
        "scenario_promotion_truth",
        FROZEN,
        *_item_location("scenario_promotion_truth"),
        sa.Column("week", sa.Date(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("mechanic", sa.String(length=16), nullable=False),
        sa.Column("depth", sa.Double(), nullable=False),
        sa.Column("display", sa.Boolean(), nullable=False),
        sa.Column("feature", sa.Boolean(), nullable=False),
        sa.Column("true_baseline_units", sa.Double(), nullable=False),
        sa.Column("true_demand_units", sa.Double(), nullable=False),
        sa.Column("true_lift", sa.Double(), nullable=False),
        sa.Column("realised_demand_units", sa.Double(), nullable=False),
        sa.Column("censored", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["scenario_promotion_events.id"],
            name="fk_scenario_promotion_truth_event_id_scenario_promotion_events",
        ),
        sa.PrimaryKeyConstraint(
            "item_id", "location_id", "week", name="pk_scenario_promotion_truth"
        ),
        sa.Index("ix_scenario_promotion_truth_event_id", "event_id"),
    ),
]


def upgrade() -> None:
    bind = op.get_bind()
    # Creates what is missing and adopts what a database from before the split has.
    FROZEN.create_all(bind, tables=DEMO_TABLES, checkfirst=True)
    orders = {column["name"] for column in sa.inspect(bind).get_columns("sandbox_purchase_orders")}
    if "cancelled_at" not in orders:  # adopted from a database upgraded before 0007
        with op.batch_alter_table("sandbox_purchase_orders", schema=None) as batch_op:
            batch_op.add_column(
                sa.Column("cancelled_at", sa.DateTime(timezone=True), nullable=True)
            )


def downgrade() -> None:
    FROZEN.drop_all(op.get_bind(), tables=DEMO_TABLES, checkfirst=True)

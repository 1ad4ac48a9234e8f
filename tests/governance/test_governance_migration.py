"""The packaged migrations build exactly the ORM models, and 0002 downgrades cleanly."""

from __future__ import annotations

from collections.abc import Callable

import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.engine import Engine

from promoflow.migrate import alembic_config, upgrade
from promoflow.schema import demo_metadata, metadata

GOVERNANCE_TABLES = {
    "model_versions",
    "promotion_forecast_accuracy",
    "recommendations",
    "recommendation_lines",
}


def test_the_migrations_build_exactly_the_models(engine: Engine) -> None:
    # The suite's database has both branches: production's models and the demo's.
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, [metadata, demo_metadata])
    assert differences == [], "a model changed without a migration (or the other way round)"


def test_0002_downgrades_and_upgrades_again(private_engine: Callable[[str], Engine]) -> None:
    engine = private_engine("governance_downgrade")
    config = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0001")
    assert not GOVERNANCE_TABLES & set(sa.inspect(engine).get_table_names())
    upgrade(engine)
    assert set(sa.inspect(engine).get_table_names()) >= GOVERNANCE_TABLES

"""Alembic environment: our metadata only (DBOS manages its own tables).

Both branches' metadata are the target, so autogenerate against a database with
the demo branch installed sees every table; a change to a sandbox or scenario
model belongs in a revision of the `demo` branch (`migrations/demo/`,
`--head demo@head`), a change to any other model in `core` (`versions/`).
"""

from __future__ import annotations

from typing import Any

from alembic import context

from promoflow.config import get_settings
from promoflow.kit.db import make_engine
from promoflow.kit.types import UtcDateTime
from promoflow.schema import demo_metadata, metadata

config = context.config
target_metadata = [metadata, demo_metadata]


def render_item(type_: str, obj: Any, autogen_context: Any) -> str | bool:
    """Render our UTC column type as the plain SQLAlchemy type it stores as."""
    if type_ == "type" and isinstance(obj, UtcDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def run_migrations_online() -> None:
    connectable = config.attributes.get("connection")
    if connectable is not None:
        context.configure(
            connection=connectable, target_metadata=target_metadata, render_as_batch=True
        )
        with context.begin_transaction():
            context.run_migrations()
        return
    url = config.get_main_option("sqlalchemy.url") or get_settings().resolved_database_url()
    engine = make_engine(url)
    with engine.connect() as connection:
        context.configure(
            connection=connection, target_metadata=target_metadata, render_as_batch=True
        )
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


run_migrations_online()

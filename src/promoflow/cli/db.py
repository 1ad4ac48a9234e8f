"""`promoflow db upgrade`."""

from __future__ import annotations

import typer

from promoflow.cli.common import console, handles_errors
from promoflow.config import get_settings
from promoflow.kit.db import make_engine
from promoflow.migrate import upgrade as run_upgrade

app = typer.Typer(no_args_is_help=True)


@app.command()
@handles_errors
def upgrade(
    revision: str = typer.Argument("head", help="Alembic revision ('head': the production schema)"),
    demo: bool = typer.Option(
        False, "--demo", help="Also install the sandbox estate and scenario tables (demo branch)"
    ),
) -> None:
    """Create or migrate the application schema (no demo table unless --demo)."""
    settings = get_settings()
    engine = make_engine(settings.resolved_database_url())
    run_upgrade(engine, revision, demo=demo)
    engine.dispose()
    extra = " with the demo branch" if demo else ""
    console.print(f"schema at [bold]{revision}[/]{extra} on {engine.url.render_as_string()}")

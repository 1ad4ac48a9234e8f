"""`promoflow`: the root command and its groups."""

from __future__ import annotations

import typer

from promoflow.cli import audit as audit_cli
from promoflow.cli import (
    auth,
    catalog,
    connectors,
    db,
    deadletters,
    demo,
    diagnostics,
    forecast,
    models,
    promotions,
    recommendations,
    runtime_cmds,
    workflows,
)
from promoflow.cli import events as events_cli

app = typer.Typer(
    name="promoflow",
    help="Control tower for retail promotion execution and inventory alignment.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.add_typer(db.app, name="db", help="Database schema.")
app.add_typer(promotions.app, name="promotions", help="Read promotions and their state.")
app.add_typer(workflows.app, name="workflows", help="Durable lifecycle workflows (DBOS).")
app.add_typer(models.app, name="models", help="The forecasting model registry (governed).")
app.add_typer(forecast.app, name="forecast", help="Backtest demand forecasts on any sales file.")
app.add_typer(recommendations.app, name="recommendations", help="Allocation and replenishment.")
app.add_typer(connectors.app, name="connectors", help="Connectors, connections, health, syncs.")
# `connectors diagnostics` lives in its own module, added to the connectors group here.
connectors.app.command("diagnostics")(diagnostics.diagnostics)
app.add_typer(deadletters.app, name="deadletters", help="Inspect, replay or discard dead letters.")
app.add_typer(events_cli.app, name="events", help="The event catalogue and its AsyncAPI document.")
app.add_typer(catalog.app, name="catalog", help="Browse items, locations, suppliers; eligibility.")
app.add_typer(auth.app, name="auth", help="Development tokens and API keys.")
app.add_typer(audit_cli.app, name="audit", help="Verify, export and sign the audit log.")
app.command(name="demo")(demo.demo)
app.command(name="serve")(runtime_cmds.serve)
app.command(name="worker")(runtime_cmds.worker)

if __name__ == "__main__":
    app()

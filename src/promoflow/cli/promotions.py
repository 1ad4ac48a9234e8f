"""`promoflow promotions list|show|whatif|variance`."""

from __future__ import annotations

import json

import typer
from rich.table import Table

from promoflow.cli import promotion_analysis
from promoflow.cli.common import console, handles_errors
from promoflow.cli.render import promotion_panel, styled
from promoflow.config import get_settings
from promoflow.promotions import service
from promoflow.runtime import open_database

app = typer.Typer(no_args_is_help=True)
app.command("whatif")(promotion_analysis.whatif)
app.command("variance")(promotion_analysis.variance)


@app.command("list")
@handles_errors
def list_promotions(
    status: str | None = typer.Option(None, help="Only promotions in this state"),
) -> None:
    """List promotions with their state."""
    runtime = open_database()
    with runtime.sessions() as session:
        rows = service.list_promotions(session, status)
        table = Table("id", "code", "name", "status", "rev", "window", "why")
        for p in rows:
            table.add_row(
                str(p.id),
                p.code,
                p.name,
                styled(p.status),
                str(p.revision),
                f"{p.start_date} → {p.end_date}",
                p.status_reason[:60],
            )
    console.print(table if rows else "no promotions yet: run `promoflow demo`")


@app.command()
@handles_errors
def show(
    ref: str = typer.Argument(..., help="Promotion id or code"),
    as_json: bool = typer.Option(False, "--json", help="Print the report as JSON"),
) -> None:
    """Show one promotion: timeline, gates, approvals, publications, exceptions."""
    from promoflow.lifecycle.report import promotion_report

    settings = get_settings()
    runtime = open_database()
    with runtime.sessions() as session:
        promotion = service.find_promotion(session, ref)
        report = promotion_report(session, promotion, currency=settings.currency)
    if as_json:
        console.print_json(json.dumps(report, default=str))
    else:
        console.print(promotion_panel(report, settings.locale))

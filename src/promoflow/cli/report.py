"""`promoflow report promotion REF`: the post-event report as HTML, PDF and JSON files."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from promoflow.cli.common import console, handles_errors
from promoflow.config import get_settings
from promoflow.connectors import registry
from promoflow.kit.errors import InvalidInput
from promoflow.postevent import commands, service
from promoflow.postevent.html import render_html
from promoflow.postevent.pdf import render_pdf
from promoflow.runtime import open_database

app = typer.Typer(no_args_is_help=True)
FORMATS = ("html", "pdf", "json")


def chosen_formats(text: str) -> list[str]:
    """The formats asked for, in FORMATS order; names an unknown one."""
    asked = [part.strip().lower() for part in text.split(",") if part.strip()]
    unknown = [part for part in asked if part not in FORMATS]
    if unknown or not asked:
        raise InvalidInput("--format", text, f"give a comma-separated list of {', '.join(FORMATS)}")
    return [name for name in FORMATS if name in asked]


def _checked_folder(output: Path) -> Path:
    if output.exists() and not output.is_dir():
        raise InvalidInput("--output", str(output), "is a file; give a folder to write into")
    return output


@app.command("promotion")
@handles_errors
def promotion(
    ref: str = typer.Argument(
        ..., help="Code of a promotion that has run: HIST-01-001, or one the workflow closed"
    ),
    output: Path = typer.Option(..., "--output", help="Folder the report files go into"),
    formats: str = typer.Option(
        ",".join(FORMATS), "--format", help="Comma-separated: html, pdf, json"
    ),
) -> None:
    """Post-event financial analysis of one promotion, with its three-way reconciliation."""
    wanted = chosen_formats(formats)
    folder = _checked_folder(output)
    settings = get_settings()
    runtime = open_database()
    report = commands.report_for(
        runtime.sessions,
        ref,
        currency=settings.currency,
        sales_feed=registry.get_sales_feed(runtime.sessions),
        ledger=service.sandbox_ledger(runtime.sessions),
    )
    code = report["promotion"]["code"]
    rendered = {
        "json": (json.dumps(report, indent=2) + "\n").encode(),
        "html": render_html(report).encode(),
        "pdf": render_pdf(report),
    }
    folder.mkdir(parents=True, exist_ok=True)
    for name in wanted:
        path = folder / f"{code}.{name}"
        path.write_bytes(rendered[name])
        console.print(f"wrote {path}")
    units, costs = report["units"], report["costs"]
    console.print(
        f"{code}: {units['incremental']:,.1f} incremental units "
        f"({units['net_incremental']:,.1f} net), ROI {costs['roi']}, "
        f"reconciliation {report['reconciliation']['status']}"
    )

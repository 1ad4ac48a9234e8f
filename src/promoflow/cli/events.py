"""`promoflow events catalogue|asyncapi`: the events promoflow publishes."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.table import Table

from promoflow.cli.common import console, handles_errors
from promoflow.events.asyncapi import document
from promoflow.events.catalogue import CATALOGUE
from promoflow.events.cloudevents import subject_for

app = typer.Typer(no_args_is_help=True)


@app.command("catalogue")
@handles_errors
def catalogue() -> None:
    """Every event type: its NATS subject, CloudEvent subject and meaning."""
    table = Table("type", "NATS subject", "subject", "description", title="promoflow events")
    for entry in CATALOGUE:
        table.add_row(entry.type, subject_for(entry.type), entry.subject, entry.description)
    console.print(table)


@app.command("asyncapi")
@handles_errors
def asyncapi(
    output: Path | None = typer.Option(
        None, "--output", "-o", help="Write the document here instead of standard output."
    ),
) -> None:
    """The AsyncAPI 3.0 document of the event catalogue (JSON)."""
    text = json.dumps(document(), indent=2) + "\n"
    if output is None:
        typer.echo(text, nl=False)
        return
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(text, encoding="utf-8")
    console.print(f"AsyncAPI 3.0 document with {len(CATALOGUE)} event types written to {output}")

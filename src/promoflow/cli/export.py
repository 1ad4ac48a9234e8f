"""`promoflow export ocel|xes`: the event log for process-mining tools."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import typer

from promoflow.cli.common import err_console, handles_errors
from promoflow.kit.db import reading
from promoflow.processmining import service
from promoflow.runtime import open_database

app = typer.Typer(no_args_is_help=True)

SINCE = typer.Option(None, "--since", help="Only events at or after this ISO 8601 date or time")
UNTIL = typer.Option(None, "--until", help="Only events before this ISO 8601 date or time")
OUTPUT = typer.Option(..., "--output", "-o", help="The file to write (replaced if it exists)")


def _window(since: str | None, until: str | None) -> tuple[datetime | None, datetime | None]:
    start = service.parse_moment("since", since) if since else None
    end = service.parse_moment("until", until) if until else None
    service.check_window(start, end)
    return start, end


@app.command("ocel")
@handles_errors
def ocel(
    output: Path = OUTPUT,
    fmt: str = typer.Option("json", "--format", "-f", help="json, sqlite or xml (OCEL 2.0)"),
    since: str | None = SINCE,
    until: str | None = UNTIL,
) -> None:
    """Write the object-centric event log (OCEL 2.0): promotions, revisions, items, orders..."""
    service.check_format(fmt)  # refused before the database is opened
    start, end = _window(since, until)
    runtime = open_database()
    with reading(runtime.sessions) as session:
        summary = service.export_ocel(session, fmt, output, start, end)
    err_console.print(
        f"OCEL 2.0 {fmt}: {summary.events:,} events, {summary.objects:,} objects -> {summary.path}"
    )


@app.command("xes")
@handles_errors
def xes(output: Path = OUTPUT, since: str | None = SINCE, until: str | None = UNTIL) -> None:
    """Write an XES log with one trace per promotion revision (for case-centric tools)."""
    start, end = _window(since, until)
    runtime = open_database()
    with reading(runtime.sessions) as session:
        summary = service.export_xes(session, output, start, end)
    err_console.print(
        f"XES: {summary.traces:,} promotion revisions, {summary.events:,} events -> {summary.path}"
    )

"""`promoflow workflows list|resume`: DBOS's durable workflows.

These read and change workflow rows through DBOS's client, without launching
DBOS in this process: a launched process would take this host's executor id
and recover (so run) whatever workflows a crashed worker of that id left.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import typer
from dbos import DBOSClient
from rich.table import Table

from promoflow.cli.common import console, handles_errors
from promoflow.config import get_settings

app = typer.Typer(no_args_is_help=True)


@contextmanager
def _client() -> Iterator[DBOSClient]:
    client = DBOSClient(
        system_database_url=get_settings().resolved_database_url(), application_name="promoflow"
    )
    try:
        yield client
    finally:
        client.destroy()


@app.command("list")
@handles_errors
def list_workflows(
    status: str | None = typer.Option(None, help="PENDING, SUCCESS, ERROR, CANCELLED..."),
    limit: int = typer.Option(50, min=1, max=1000),
) -> None:
    """List lifecycle workflows, newest first."""
    with _client() as client:
        rows = client.list_workflows(status=status, limit=limit, sort_desc=True)
    table = Table("workflow id", "status", "executor", "output / error")
    for wf in rows:
        outcome = wf.output if wf.output is not None else (str(wf.error or "")[:60])
        table.add_row(wf.workflow_id, wf.status, wf.executor_id or "-", str(outcome))
    console.print(table)


@app.command()
@handles_errors
def resume(
    workflow_id: str = typer.Argument(..., help="Workflow id (see `workflows list`)"),
) -> None:
    """Resume a cancelled or failed workflow from its last completed step (a worker runs it)."""
    with _client() as client:
        handle = client.resume_workflow(workflow_id)
        console.print(f"resumed [bold]{workflow_id}[/]: {handle.get_status().status}")

"""`promoflow workflows list|resume`: DBOS's durable workflows."""

from __future__ import annotations

import typer
from dbos import DBOS
from rich.table import Table

from promoflow.cli.common import console, handles_errors
from promoflow.runtime import start_runtime, stop_runtime

app = typer.Typer(no_args_is_help=True)


@app.command("list")
@handles_errors
def list_workflows(
    status: str | None = typer.Option(None, help="PENDING, SUCCESS, ERROR, CANCELLED..."),
    limit: int = typer.Option(50, min=1, max=1000),
) -> None:
    """List lifecycle workflows, newest first."""
    start_runtime()
    try:
        rows = DBOS.list_workflows(status=status, limit=limit, sort_desc=True)
        table = Table("workflow id", "status", "executor", "output / error")
        for wf in rows:
            outcome = wf.output if wf.output is not None else (str(wf.error or "")[:60])
            table.add_row(wf.workflow_id, wf.status, wf.executor_id or "-", str(outcome))
        console.print(table)
    finally:
        stop_runtime()


@app.command()
@handles_errors
def resume(
    workflow_id: str = typer.Argument(..., help="Workflow id (see `workflows list`)"),
) -> None:
    """Resume a cancelled or failed workflow from its last completed step."""
    start_runtime()
    try:
        handle = DBOS.resume_workflow(workflow_id)
        console.print(f"resumed [bold]{workflow_id}[/]: {handle.get_status().status}")
    finally:
        stop_runtime()

"""`promoflow approvals list|decide`: an approver's queue and their decision.

The same calls as the API's /approvals routes: the queue (`approvals.queue`, with
the promotion's figures an approver decides on) and `lifecycle.commands.decide_approval`.
"""

from __future__ import annotations

import typer
from rich.table import Table

from promoflow.cli.common import console, handles_errors, known_role, wake
from promoflow.kit.clock import utcnow
from promoflow.kit.errors import InvalidInput
from promoflow.kit.logging import configure_logging
from promoflow.runtime import open_database

app = typer.Typer(no_args_is_help=True)

# More than anyone decides in a sitting; the API pages through the rest.
QUEUE_LIMIT = 500


@app.command("list")
@handles_errors
def list_tasks(
    role: str | None = typer.Option(
        None, "--role", help="Only tasks assigned to this role (default: every role's)"
    ),
    mine: bool = typer.Option(
        False,
        "--mine",
        help="Only the tasks NAME (--by) may decide in --role: not those of promotions "
        "NAME requested",
    ),
    by: str | None = typer.Option(None, "--by", help="Who is asking (with --mine)"),
) -> None:
    """Pending approval tasks, soonest due first, with what an approver decides on."""
    from promoflow.approvals.queue import queue_page, queue_rules
    from promoflow.kit.identity import same_person
    from promoflow.promotions import service as promotions_service

    if role is not None:
        known_role(role)
    if mine and (role is None or not by):
        raise InvalidInput("--mine", mine, "needs --role ROLE and --by NAME: whose tasks to show")
    runtime = open_database()
    settings = runtime.settings
    rules = queue_rules(settings.policy_path("approvals.yaml"), settings.policy_path("gates.yaml"))
    with runtime.sessions() as session:
        rows, total = queue_page(
            session, role, QUEUE_LIMIT, 0, now=utcnow(), rules=rules, currency=settings.currency
        )
        if mine:
            rows = [
                row
                for row in rows
                if not same_person(
                    by, promotions_service.get_promotion(session, row.promotion_id).requested_by
                )
            ]
    if not rows:
        whose = f" for {role}" if role else ""
        console.print(f"no approval task is waiting{whose}")
        return
    table = Table(
        "task", "promotion", "name", "mechanic", "depth", "uplift", "margin impact", "risk",
        "role", "due (UTC)", "SLA",
    )  # fmt: skip
    for row in rows:
        table.add_row(
            str(row.id),
            row.promotion_code,
            row.promotion_name,
            row.mechanic,
            f"{row.depth:.0%}",
            "-" if row.forecast_uplift_pct is None else f"{row.forecast_uplift_pct:+.1f} %",
            row.margin_impact.formatted(settings.locale),
            row.risk,
            row.assigned_role,
            row.due_at.strftime("%Y-%m-%d %H:%M"),
            row.sla_state,
        )
    console.print(table)
    if total > len(rows) and not mine:
        console.print(f"{len(rows)} of {total} shown (soonest due first)")


@app.command()
@handles_errors
def decide(
    task_id: int = typer.Argument(..., help="Task id (see `approvals list`)"),
    approve: bool | None = typer.Option(
        None, "--approve/--reject", help="The decision", show_default=False
    ),
    by: str = typer.Option(..., "--by", help="Who decides"),
    role: str = typer.Option(..., "--role", help="The role they decide in"),
    comment: str = typer.Option("", "--comment", help="Why (shown on the promotion's timeline)"),
) -> None:
    """Approve or reject a task: only its assigned role may, and never the requester."""
    if approve is None:
        raise InvalidInput("decision", None, "say --approve or --reject")
    known_role(role)
    from promoflow.lifecycle import commands
    from promoflow.promotions import service as promotions_service

    # The command's own signal finds no DBOS here and says so at INFO; wake() sends it.
    configure_logging(level="WARNING")
    runtime = open_database()
    task = commands.decide_approval(task_id, by, role, "approve" if approve else "reject", comment)
    workflow_id = promotions_service.workflow_id_for(task.promotion_id, task.revision)
    wake(runtime, workflow_id, {"kind": "approval", "task_id": task.id})
    colour = "green" if approve else "red"
    console.print(
        f"task {task.id} ({task.role}) of promotion {task.promotion_id} [{colour}]{task.status}[/] "
        f"by {by} ({role}); the promotion's workflow takes it from here"
    )

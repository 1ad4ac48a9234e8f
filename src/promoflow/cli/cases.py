"""`promoflow cases list|show|act`: the exception queue from the command line.

The same calls as the API's /exceptions routes: `exceptions.service` to read and
`lifecycle.commands.resolve_exception` to act (which wakes the promotion's workflow).
"""

from __future__ import annotations

import json

import typer
from rich.table import Table

from promoflow.cli.common import console, handles_errors, known_role, wake
from promoflow.cli.render import styled
from promoflow.exceptions import service as exceptions_service
from promoflow.exceptions.schemas import CaseAction, CaseStatus
from promoflow.kit.errors import InvalidInput
from promoflow.kit.logging import configure_logging
from promoflow.promotions import service as promotions_service
from promoflow.runtime import open_database

app = typer.Typer(no_args_is_help=True)


@app.command("list")
@handles_errors
def list_cases(
    status: str | None = typer.Option(None, "--status", help="open or resolved"),
    kind: str | None = typer.Option(None, "--kind", help="e.g. supplier_shortfall"),
    promotion: str | None = typer.Option(None, "--promotion", help="Promotion id or code"),
    owner: str | None = typer.Option(None, "--owner", help="Owner role"),
) -> None:
    """Exception cases, most recent first."""
    with open_database().sessions() as session:
        promotion_id = (
            None if promotion is None else promotions_service.find_promotion(session, promotion).id
        )
        rows = exceptions_service.list_cases(
            session, status=status, owner_role=owner, promotion_id=promotion_id, kind=kind
        )
        codes = {
            pid: promotions_service.get_promotion(session, pid).code
            for pid in {case.promotion_id for case in rows if case.promotion_id is not None}
        }
    if not rows:
        console.print("no exception case matches")
        return
    table = Table(
        "case", "kind", "severity", "status", "owner", "promotion", "opened (UTC)", "title",
        "actions",
    )  # fmt: skip
    for case in rows:
        table.add_row(
            str(case.id),
            case.kind,
            case.severity,
            styled(case.status),
            case.owner_role + (f" ({case.assignee})" if case.assignee else ""),
            "-" if case.promotion_id is None else codes[case.promotion_id],
            case.opened_at.strftime("%Y-%m-%d %H:%M"),
            case.title,
            ", ".join(case.allowed_actions)
            if case.status == CaseStatus.OPEN
            else case.resolution or "",
        )
    console.print(table)


@app.command()
@handles_errors
def show(
    case_id: int = typer.Argument(..., help="Case id (see `cases list`)"),
    as_json: bool = typer.Option(False, "--json", help="Print the case as JSON"),
) -> None:
    """One case: what happened, what it is linked to, who owns it, what may be done."""
    with open_database().sessions() as session:
        case = exceptions_service.get_case(session, case_id)
        code = (
            None
            if case.promotion_id is None
            else promotions_service.get_promotion(session, case.promotion_id).code
        )
    fields = {
        "id": case.id,
        "kind": case.kind,
        "severity": case.severity,
        "status": case.status,
        "owner_role": case.owner_role,
        "assignee": case.assignee,
        "promotion": code,
        "revision": case.revision,
        "title": case.title,
        "detail": case.detail,
        "linked": case.linked,
        "allowed_actions": case.allowed_actions,
        "opened_at": case.opened_at,
        "resolution": case.resolution,
        "resolved_by": case.resolved_by,
        "resolution_reason": case.resolution_reason,
        "resolved_at": case.resolved_at,
    }
    if as_json:
        console.print_json(json.dumps(fields, default=str))
        return
    console.print(f"[bold]case {case.id}[/]: {case.title}")
    for name, value in fields.items():
        if name in {"id", "title"} or value in (None, "", {}, []):
            continue
        shown = ", ".join(map(str, value)) if isinstance(value, list) else value
        if isinstance(value, dict):
            shown = ", ".join(f"{k}={v}" for k, v in value.items())
        console.print(f"  {name.replace('_', ' ')}: {shown}", highlight=False)


@app.command()
@handles_errors
def act(
    case_id: int = typer.Argument(..., help="Case id (see `cases list`)"),
    action: str = typer.Argument(..., help=", ".join(CaseAction)),
    by: str = typer.Option(..., "--by", help="Who acts"),
    role: str = typer.Option(..., "--role", help="The case's owner role, or operations_admin"),
    reason: str = typer.Option("", "--reason", help="Why (needed to waive or cancel)"),
    assignee: str | None = typer.Option(None, "--assignee", help="Whom to reassign it to"),
) -> None:
    """Retry, waive, reassign, escalate, or cancel the promotion; its workflow wakes."""
    if action not in tuple(CaseAction):
        raise InvalidInput("action", action, f"must be one of {', '.join(CaseAction)}")
    known_role(role)
    from promoflow.lifecycle import commands

    # The command's own signal finds no DBOS here and says so at INFO; wake() sends it.
    configure_logging(level="WARNING")
    runtime = open_database()
    case = commands.resolve_exception(case_id, action, by, role, reason=reason, assignee=assignee)
    wake(
        runtime,
        case.workflow_id,
        {"kind": "exception", "case_id": case.id, "action": action, "actor": by, "reason": reason},
    )
    owner = case.owner_role + (f" ({case.assignee})" if case.assignee else "")
    console.print(
        f"case {case.id} ({case.kind}): {action} by {by} ({role}); now {case.status}, "
        f"owned by {owner}"
    )

"""`promoflow connectors diagnostics NAME`: what to paste into a support ticket.

Registered on the `connectors` group by `cli.main` (this module owns the command,
`cli.connectors` the group). It reads what the worker recorded in the database,
so it shows the last calls whichever process made them; secrets never appear
(`connectors.diagnostics` redacts before anything is printed).
"""

from __future__ import annotations

import json
from typing import Any

import typer
from rich.markup import escape
from rich.table import Table

from promoflow.cli.common import console, handles_errors
from promoflow.connectors import diagnostics as diagnosing
from promoflow.runtime import open_database


@handles_errors
def diagnostics(
    name: str = typer.Argument(..., help="Connection name, e.g. sap-prod"),
    as_json: bool = typer.Option(False, "--json", help="Print JSON (to attach to a ticket)"),
    probe: bool = typer.Option(
        False, "--probe", help="Also ask the system for its version (one call out)"
    ),
) -> None:
    """Versions, health, the last calls and the settings (secrets redacted) of a connection."""
    with open_database().sessions() as session:
        found = diagnosing.diagnose(session, name, probe=probe).as_dict()
    if as_json:
        console.print_json(json.dumps(found))
        return
    _print(found)


def _pairs(title: str, values: dict[str, Any]) -> Table:
    table = Table(title=title, box=None, show_header=False, title_justify="left")
    for key, value in values.items():
        shown = json.dumps(value) if isinstance(value, dict | list) else str(value)
        table.add_row(escape(str(key)), escape(shown))
    return table


def _print(found: dict[str, Any]) -> None:
    console.print(
        f"[bold]{escape(found['connection'])}[/] ({escape(found['connector'])}), "
        f"{'enabled' if found['enabled'] else 'disabled'}, serves "
        f"{escape(', '.join(found['serves']) or 'nothing')}; generated {found['generated_at']}"
    )
    versions = {
        **found["versions"],
        "speaks": found["speaks"],
        "system reports": found["reported_version"] or "- (ask with --probe)",
    }
    console.print(_pairs("versions", versions))
    console.print(_pairs("health", found["health"]))
    console.print(_pairs("last test", found["last_test"]))
    calls = Table(
        "at",
        "operation",
        "outcome",
        "attempts",
        "seconds",
        "error code",
        "error",
        title=f"last calls (newest first, {len(found['last_calls'])})",
        box=None,
        header_style="bold",
        title_justify="left",
    )
    for call in found["last_calls"]:
        calls.add_row(
            call["at"],
            escape(call["operation"]),
            call["outcome"],
            str(call["attempts"]),
            f"{call['seconds']:.3f}",
            escape(call["error_code"] or "-"),
            escape(call["error"]),
        )
    console.print(calls)
    console.print(_pairs("settings (secrets as their reference)", found["settings"]))
    if found["secrets"]:
        console.print(_pairs("secrets", found["secrets"]))
    if found["system"]:
        console.print(_pairs(f"{found['connector']} specifics", found["system"]))
    for problem in found["problems"]:
        console.print(f"[yellow]problem:[/] {escape(problem)}")

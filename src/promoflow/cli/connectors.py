"""`promoflow connectors`: installed connectors, connections, their tests, health and syncs."""

from __future__ import annotations

import json

import typer
from rich.table import Table

from promoflow.cli.common import console, handles_errors
from promoflow.integration import connections as connection_commands
from promoflow.integration import service as connections
from promoflow.integration import sync as syncing
from promoflow.kit.db import transaction
from promoflow.kit.errors import InvalidInput
from promoflow.kit.roles import Role
from promoflow.runtime import open_database

app = typer.Typer(no_args_is_help=True)
# Who runs a connection command when --by is not given: the role that administers them.
ADMINISTRATOR = str(Role.OPERATIONS_ADMIN)


def _settings(pairs: list[str]) -> dict[str, str]:
    values: dict[str, str] = {}
    for index, pair in enumerate(pairs):
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise InvalidInput(f"--set[{index}]", pair, "write NAME=VALUE")
        values[key] = value
    return values


@app.command("list")
@handles_errors
def list_(
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of tables"),
) -> None:
    """Installed connectors (from the entry point group) and configured connections."""
    installed = connections.list_installed()
    with open_database().sessions() as session:
        configured = connections.list_connections(session)
    if as_json:
        console.print_json(json.dumps({"installed": installed, "connections": configured}))
        return
    table = Table("connector", "kind", "protocol", "capabilities", box=None, header_style="bold")
    for found in installed:
        if found["available"]:
            table.add_row(
                found["slug"], found["kind"], found["protocol"], ", ".join(found["capabilities"])
            )
        else:
            table.add_row(found["slug"], "[red]unavailable[/]", found["error"][:60], "")
    console.print(table)
    if not configured:
        console.print("no connections: every port is served by the sandbox estate")
        return
    table = Table(
        "connection",
        "connector",
        "serves",
        "enabled",
        "circuit",
        "error rate",
        "last success",
        box=None,
        header_style="bold",
    )
    for row in configured:
        health = row["health"]
        rate = health["error_rate"]
        table.add_row(
            row["name"],
            row["connector"],
            ", ".join(row["serves"]),
            "yes" if row["enabled"] else "no",
            health["circuit_state"],
            "-" if rate is None else f"{rate:.0%}",
            health["last_success_at"] or "-",
        )
    console.print(table)


@app.command()
@handles_errors
def add(
    name: str = typer.Argument(..., help="Connection name, e.g. sap-prod"),
    connector: str = typer.Option(..., "--connector", help="Installed connector slug"),
    setting: list[str] = typer.Option(
        [],
        "--set",
        help="NAME=VALUE; secret fields take env:VARIABLE or file:NAME, as the server allows",
    ),
    serves: list[str] = typer.Option(
        [], "--serves", help="Capability to serve, e.g. inventory or price_publication:pos"
    ),
    rate: float | None = typer.Option(None, "--rate", help="Calls per second at most"),
    by: str = typer.Option(ADMINISTRATOR, "--by", help="Who adds it"),
) -> None:
    """Register a connection (disabled until `enable` passes its test)."""
    with transaction(open_database().sessions) as session:
        row = connections.add_connection(
            session,
            name=name,
            connector=connector,
            config=_settings(setting),
            serves=serves,
            rate_limit_per_second=rate,
            actor=by,
        )
        console.print(f"connection {row.name} ({row.connector}) added, disabled")


@app.command("test")
@handles_errors
def check(
    name: str = typer.Argument(..., help="Connection name"),
    by: str = typer.Option(ADMINISTRATOR, "--by"),
) -> None:
    """Run the connection test (reaches the system with the configured credentials)."""
    result = connection_commands.run_connection_test(open_database().sessions, name, by)
    colour = "green" if result.ok else "red"
    outcome = "ok" if result.ok else "failed"
    console.print(f"[{colour}]{outcome}[/] in {result.seconds:.2f} s: {result.detail}")
    if not result.ok:
        raise typer.Exit(code=1)


@app.command()
@handles_errors
def enable(
    name: str = typer.Argument(..., help="Connection name"),
    by: str = typer.Option(ADMINISTRATOR, "--by"),
) -> None:
    """Test the connection, then route its capabilities to it."""
    check = connection_commands.enable(open_database().sessions, name, by)
    console.print(f"[green]enabled[/] {name}: {check.detail}")


@app.command()
@handles_errors
def disable(
    name: str = typer.Argument(..., help="Connection name"),
    by: str = typer.Option(ADMINISTRATOR, "--by"),
) -> None:
    """Stop routing to the connection (the sandbox estate answers its ports again)."""
    connection_commands.disable(open_database().sessions, name, by)
    console.print(f"disabled {name}")


@app.command()
@handles_errors
def sync(
    name: str = typer.Argument(..., help="Connection name"),
    capability: str = typer.Option(..., "--capability", help=", ".join(syncing.CAPABILITIES)),
) -> None:
    """Pull data from the connection and apply it: all of the run or none of it."""
    result = syncing.sync(open_database().sessions, name, capability)
    console.print(
        f"[green]synced[/] {result.records} {capability} records from {name} "
        f"in {result.pages} pages, {result.seconds:.1f} s"
    )

"""`promoflow`: the root command and its groups.

Each group's module is imported only when that group runs: `promoflow --help`
imports Typer and nothing of the domain, and `promoflow promotions list` never
loads the forecasting stack, DBOS or the API (`benchmarks/cli_start.py`,
`tests/cli/test_cli_start.py`).
"""

from __future__ import annotations

import gc
import importlib
from typing import Any

import typer
from typer import _click as click  # the click Typer vendors (its types are these)
from typer.core import TyperCommand, TyperGroup

# name -> (module under promoflow.cli, its attribute, the one-line help).
# An attribute named `app` is a group (a Typer); any other a single command.
COMMANDS: dict[str, tuple[str, str, str]] = {
    "db": ("db", "app", "Database schema."),
    "promotions": ("promotions", "app", "Read promotions and their state."),
    "approvals": ("approvals", "app", "Approval tasks: the queue by role, and deciding them."),
    "cases": ("cases", "app", "Exception cases: list, show, and act on them."),
    "workflows": ("workflows", "app", "Durable lifecycle workflows (DBOS)."),
    "models": ("models", "app", "The forecasting model registry (governed)."),
    "forecast": ("forecast", "app", "Backtest demand forecasts on any sales file."),
    "recommendations": ("recommendations", "app", "Allocation and replenishment."),
    "connectors": ("connectors", "app", "Connectors, connections, health, syncs."),
    "deadletters": ("deadletters", "app", "Inspect, replay or discard dead letters."),
    "events": ("events", "app", "The event catalogue and its AsyncAPI document."),
    "catalog": ("catalog", "app", "Browse items, locations, suppliers; eligibility."),
    "auth": ("auth", "app", "Development tokens and API keys."),
    "audit": ("audit", "app", "Verify, export and sign the audit log."),
    "simulate": ("simulate", "app", "Simulate promoflow against business as usual (ROI)."),
    "export": ("export", "app", "Export the event log as OCEL 2.0 (json, sqlite, xml) or XES."),
    "report": ("report", "app", "Post-event reports: a promotion's incremental figures and ROI."),
    "demo": ("demo", "demo", "Seed a retailer and run six promotions through the whole lifecycle."),
    "serve": ("runtime_cmds", "serve", "Run the API (and the workflows) on this machine."),
    "worker": ("runtime_cmds", "worker", "Run workflows only, beside an API-only serve."),
}


def load_command(name: str) -> click.Command:
    """Import one command's module and build its click command."""
    module_name, attribute, help_text = COMMANDS[name]
    module = importlib.import_module(f"promoflow.cli.{module_name}")
    target: Any = getattr(module, attribute)
    if module_name == "connectors" and not any(
        command.name == "diagnostics" for command in target.registered_commands
    ):
        # `connectors diagnostics` lives in its own module, added to the group here (once).
        from promoflow.cli import diagnostics

        target.command("diagnostics")(diagnostics.diagnostics)
    command: click.Command
    if isinstance(target, typer.Typer):
        command = typer.main.get_group(target)
        command.help = help_text
    else:
        single = typer.Typer(add_completion=False)
        single.command(name=name)(target)
        command = typer.main.get_command(single)
    command.name = name
    return command


def load_without_collecting(name: str) -> click.Command:
    """`load_command`, with the cyclic garbage collector paused while it imports.

    Importing a group's module (SQLAlchemy, Pydantic, the models) allocates hundreds of
    thousands of objects that stay alive; the collector's passes over them free nothing
    and cost a few hundredths of a second of a read command's start. It runs again
    before the command does (`serve` and `worker` run for days).
    """
    was_collecting = gc.isenabled()
    gc.disable()
    try:
        return load_command(name)
    finally:
        if was_collecting:
            gc.enable()


class LazyGroup(TyperGroup):
    """The root group: knows every command by name and help, imports one when it runs."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        for name, (_, _, help_text) in COMMANDS.items():
            # Stand-ins for the help listing and for typo suggestions.
            self.commands[name] = TyperCommand(name, help=help_text)
        self._loaded: set[str] = set()

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        if args and args[0] in COMMANDS and args[0] not in self._loaded:
            self.commands[args[0]] = load_without_collecting(args[0])
            self._loaded.add(args[0])
        return super().resolve_command(ctx, args)


app = typer.Typer(
    name="promoflow",
    cls=LazyGroup,
    help="Control tower for retail promotion execution and inventory alignment.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)


@app.callback()
def root() -> None:
    """Control tower for retail promotion execution and inventory alignment."""


if __name__ == "__main__":
    app()

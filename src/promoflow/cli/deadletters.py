"""`promoflow deadletters`: inspect, replay or discard what could not be applied."""

from __future__ import annotations

import json

import typer
from rich.table import Table

from promoflow.cli.common import console, handles_errors
from promoflow.integration import deadletters
from promoflow.runtime import open_database

app = typer.Typer(no_args_is_help=True)


def _load_replayers() -> None:
    # Replayers register when their module is imported.
    pass


@app.command("list")
@handles_errors
def list_(
    status: str = typer.Option("open", "--status", help="open, replayed or discarded"),
    kind: str | None = typer.Option(None, "--kind", help="dead_letter or quarantine"),
    source: str | None = typer.Option(None, "--source", help="Connection or consumer"),
    limit: int = typer.Option(50, "--limit"),
) -> None:
    """Newest first."""
    with open_database().sessions() as session:
        letters = deadletters.list_dead_letters(
            session, status=status, kind=kind, source=source, limit=limit
        )
    if not letters:
        console.print(f"no {status} dead letters")
        return
    table = Table(
        "id",
        "kind",
        "source",
        "operation",
        "attempts",
        "at",
        "reason",
        box=None,
        header_style="bold",
    )
    for letter in letters:
        table.add_row(
            str(letter.id),
            letter.kind,
            letter.source,
            letter.operation,
            str(letter.attempts),
            letter.created_at.isoformat(timespec="seconds"),
            letter.reason[:80],
        )
    console.print(table)


@app.command()
@handles_errors
def show(letter_id: int = typer.Argument(..., help="Dead letter id")) -> None:
    """The whole letter, payload included."""
    with open_database().sessions() as session:
        letter = deadletters.get_dead_letter(session, letter_id)
        console.print_json(json.dumps(deadletters.as_dict(letter), default=str))


@app.command()
@handles_errors
def replay(
    letter_id: int = typer.Argument(..., help="Dead letter id"),
    by: str = typer.Option(..., "--by", help="Who replays it"),
) -> None:
    """Apply it again through its operation (idempotently)."""
    _load_replayers()
    letter = deadletters.replay(open_database().sessions, letter_id, by)
    console.print(f"[green]replayed[/] {letter.id}: {letter.resolution_detail}")


@app.command()
@handles_errors
def discard(
    letter_id: int = typer.Argument(..., help="Dead letter id"),
    by: str = typer.Option(..., "--by", help="Who discards it"),
    reason: str = typer.Option(..., "--reason", help="Why it will not be applied"),
) -> None:
    """Close it without applying it; the reason is kept."""
    letter = deadletters.discard(open_database().sessions, letter_id, by, reason)
    console.print(f"discarded {letter.id}")

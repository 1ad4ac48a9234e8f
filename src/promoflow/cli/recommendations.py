"""`promoflow recommendations show|decide`: a planner's view of allocation and replenishment."""

from __future__ import annotations

from typing import Literal

import typer
from rich.table import Table

from promoflow.cli.common import console, handles_errors, wake
from promoflow.kit.errors import InvalidInput
from promoflow.promotions import service as promotions_service
from promoflow.recommendations import service as recommendations_service
from promoflow.recommendations.schemas import DECIDER_ROLES, RecommendationKind
from promoflow.runtime import open_database

app = typer.Typer(no_args_is_help=True)

Decision = Literal["accept", "edit", "reject"]
DECISIONS: tuple[Decision, ...] = ("accept", "edit", "reject")


@app.command()
@handles_errors
def show(recommendation_id: int = typer.Argument(..., help="Recommendation id")) -> None:
    """Show a recommendation's lines with the ids `decide --line` takes."""
    with open_database().sessions() as session:
        found = recommendations_service.get_recommendation(session, recommendation_id)
        lines = recommendations_service.recommendation_lines(session, recommendation_id)
    console.print(
        f"[bold]{found.kind} recommendation {found.id}[/] of promotion {found.promotion_id} "
        f"(revision {found.revision}): {found.status}; model {found.model_version}"
    )
    console.print(str(found.threshold.get("because", "")))
    table = Table("line", "sku", "from", "to", "proposed", "decided", box=None, header_style="bold")
    # An allocation ships from a DC to a store; a replenishment orders from a supplier to a DC.
    source, target = (
        ("dc", "store") if found.kind == RecommendationKind.ALLOCATION else ("supplier", "dc")
    )
    for line in lines:
        details = line.details
        table.add_row(
            str(line.id),
            str(details.get("sku", line.item_id)),
            str(details.get(source) or line.source_id),
            str(details.get(target) or line.location_id),
            f"{line.quantity_proposed:g}",
            "-" if line.quantity_decided is None else f"{line.quantity_decided:g}",
        )
    console.print(table if lines else "no lines: nothing to move or order")


@app.command()
@handles_errors
def decide(
    recommendation_id: int = typer.Argument(..., help="Recommendation id"),
    decision: str = typer.Argument(..., help="accept, edit or reject"),
    by: str = typer.Option(..., "--by", help="Who decides"),
    role: str = typer.Option(..., "--role", help=" or ".join(DECIDER_ROLES)),
    reason: str = typer.Option("", "--reason", help="Why (needed to edit or reject)"),
    line: list[str] = typer.Option(
        [], "--line", help="LINE_ID=UNITS for an edit; repeat for more lines"
    ),
) -> None:
    """Accept, edit or reject a recommendation; the promotion's workflow applies the decision."""
    if decision not in DECISIONS:
        raise InvalidInput("decision", decision, f"must be one of {', '.join(DECISIONS)}")
    chosen: Decision = next(d for d in DECISIONS if d == decision)
    changes = _changes(line)
    if changes and chosen != "edit":
        raise InvalidInput("--line", line, "only an edit changes quantities")
    from promoflow.lifecycle import commands

    runtime = open_database()
    decided = commands.decide_recommendation(
        recommendation_id, chosen, by, role, reason=reason, changes=changes
    )
    workflow_id = promotions_service.workflow_id_for(decided.promotion_id, decided.revision)
    wake(runtime, workflow_id, {"kind": "recommendation"})
    console.print(
        f"{decided.kind} recommendation {decided.id} [green]{decided.status}[/] by {by} ({role}); "
        "the promotion's workflow applies it"
    )


def _changes(lines: list[str]) -> dict[int, float]:
    """`--line 12=24 --line 13=0` as {12: 24.0, 13: 0.0}."""
    changes: dict[int, float] = {}
    for text in lines:
        line_id, _, units = text.partition("=")
        try:
            changes[int(line_id)] = float(units)
        except ValueError:
            raise InvalidInput(
                "--line", text, "write LINE_ID=UNITS, e.g. --line 12=24 (see `show`)"
            ) from None
    return changes

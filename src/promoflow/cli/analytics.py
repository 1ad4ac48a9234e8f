"""`promoflow analytics <report>`: process analytics over the event log, as tables or JSON."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

import typer
from rich.table import Table

from promoflow.analytics import scorecard_service, service
from promoflow.analytics.schemas import AnalyticsFilter
from promoflow.cli.common import console, handles_errors
from promoflow.kit.db import reading
from promoflow.kit.errors import InvalidInput
from promoflow.runtime import open_database

app = typer.Typer(no_args_is_help=True)

ABOUT = {
    "flow": "Directly-follows graph: which activity follows which, how often, how long between.",
    "variants": "The distinct paths through the lifecycle's states, most frequent first.",
    "stages": "Cycle time per lifecycle stage, waiting against working time, overall cycle time.",
    "approvals": "Approval latency by role (ranked by waiting time) and by approver.",
    "sla": "SLA breach rate per approval role, and launches that missed their planned date.",
    "rework": "Resubmissions, gates that failed round after round, failed publications.",
    "bottlenecks": "Approval roles, gates and exception kinds ranked by hours waited on them.",
    "conformance": "Each revision against the lifecycle: skipped, repeated, out-of-order steps.",
}


def _moment(field: str, text: str | None) -> datetime | None:
    """A date (midnight UTC) or an ISO 8601 time with an offset."""
    if text is None:
        return None
    try:
        if len(text) == 10:
            day = date.fromisoformat(text)
            return datetime(day.year, day.month, day.day, tzinfo=UTC)
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise InvalidInput(
            field, text, "not a date or ISO 8601 time, e.g. 2026-12-01 or 2026-12-01T08:00:00+00:00"
        ) from None
    if moment.tzinfo is None:
        raise InvalidInput(field, text, "give a time zone offset, e.g. +00:00")
    return moment


def _cell(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, list):
        return ", ".join(_cell(v) if not isinstance(v, dict) else _inline(v) for v in value)
    if isinstance(value, dict):
        return _inline(value)
    if isinstance(value, float):
        return f"{value:,.2f}"
    return str(value)


def _inline(mapping: dict[str, Any]) -> str:
    return " ".join(f"{key}={_cell(value)}" for key, value in mapping.items())


def _print(result: dict[str, Any]) -> None:
    active = {k: v for k, v in result["filter"].items() if v is not None}
    title = _inline(active) if active else "(every promotion)"
    console.rule(f"[bold]{result['report']}[/] {title}")
    _print_members({k: v for k, v in result.items() if k not in ("report", "filter")})


def _print_members(members: dict[str, Any], prefix: str = "") -> None:
    """Lists of rows as tables, figures as one line, nested groups under their name."""
    scalars = {k: v for k, v in members.items() if not isinstance(v, list | dict)}
    if scalars:
        console.print(f"[bold]{prefix or 'summary'}:[/] {_inline(scalars)}")
    for key, value in members.items():
        name = f"{prefix} {key}".strip().replace("_", " ")
        if isinstance(value, dict):
            _print_members(value, name)
        elif isinstance(value, list) and value and isinstance(value[0], dict):
            table = Table(title=name, title_justify="left")
            for column in value[0]:
                table.add_column(column.replace("_", " "), overflow="fold")
            for row in value:
                table.add_row(*(_cell(row.get(column)) for column in value[0]))
            console.print(table)
        elif isinstance(value, list):
            console.print(f"[bold]{name}:[/] {_cell(value) if value else 'none'}")


def _command(name: str) -> Callable[..., None]:
    @handles_errors
    def command(
        category: str | None = typer.Option(None, help="Only promotions of this category"),
        region: str | None = typer.Option(None, help="Only promotions with stores in this region"),
        banner: str | None = typer.Option(None, help="Only promotions with stores of this banner"),
        mechanic: str | None = typer.Option(None, help="Only this mechanic, e.g. percent_off"),
        since: str | None = typer.Option(
            None, help="Revisions started at or after (date or ISO time)"
        ),
        until: str | None = typer.Option(None, help="Revisions started before (date or ISO time)"),
        as_json: bool = typer.Option(False, "--json", help="Print the report as JSON"),
    ) -> None:
        selection = AnalyticsFilter(
            category=category,
            region=region,
            banner=banner,
            mechanic=mechanic,
            since=_moment("since", since),
            until=_moment("until", until),
        )
        runtime = open_database()
        with reading(runtime.sessions) as session:
            result = service.report(session, name, selection)
        if as_json:
            typer.echo(json.dumps(result, indent=2, default=str))
        else:
            _print(result)

    command.__doc__ = ABOUT[name]
    return command


for _name in service.REPORTS:
    app.command(_name)(_command(_name))


def _print_scorecard(result: dict[str, Any]) -> None:
    active = {k: v for k, v in result["filter"].items() if v is not None}
    title = _inline(active) if active else "(every promotion)"
    console.rule(f"[bold]ROI scorecard[/] per {result['period']} {title}")
    table = Table(title_justify="left")
    for column in ("figure", "group", "period", "value", "numerator", "denominator", "events"):
        table.add_column(column, overflow="fold")
    for figure in result["figures"]:
        rows = [{"period": "all", **row} for row in figure["total"]] + figure["periods"]
        for row in rows or [{"period": "all"}]:
            table.add_row(
                figure["figure"],
                _cell(row.get("group")),
                row["period"],
                _cell(row.get("value")),
                _cell(row.get("numerator")),
                _cell(row.get("denominator")),
                _cell(row.get("events")),
            )
    console.print(table)
    console.print("Drill down: promoflow analytics scorecard --drill FIGURE")


def _print_drill(result: dict[str, Any]) -> None:
    console.rule(f"[bold]{result['figure']}[/] per {result['period']}: {result['about']}")
    table = Table(title_justify="left")
    for column in ("period", "group", "case", "numerator", "denominator", "note", "events"):
        table.add_column(column, overflow="fold")
    for row in result["counted"]:
        events = "\n".join(f"{e['type']} #{e['sequence']} {e['id']}" for e in row["events"])
        table.add_row(
            row["period"],
            _cell(row["group"]),
            _cell(row["case"]),
            _cell(row["numerator"]),
            _cell(row["denominator"]),
            _cell(row["note"]),
            events or "—",
        )
    console.print(table)


@app.command("scorecard")
@handles_errors
def scorecard(
    category: str | None = typer.Option(None, help="Only promotions of this category"),
    region: str | None = typer.Option(None, help="Only promotions with stores in this region"),
    banner: str | None = typer.Option(None, help="Only promotions with stores of this banner"),
    mechanic: str | None = typer.Option(None, help="Only this mechanic, e.g. percent_off"),
    since: str | None = typer.Option(None, help="Revisions started at or after (date or ISO time)"),
    until: str | None = typer.Option(None, help="Revisions started before (date or ISO time)"),
    period: str = typer.Option("month", help="Group the figures per week or month"),
    drill: str | None = typer.Option(
        None, "--drill", metavar="FIGURE", help="List what one figure counted, event by event"
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the scorecard as JSON"),
) -> None:
    """ROI scorecard: cycle time, approval latency, launches fully ready, forecast accuracy,
    exceptions, integration reliability, manual touches; each down to its events."""
    selection = AnalyticsFilter(
        category=category,
        region=region,
        banner=banner,
        mechanic=mechanic,
        since=_moment("since", since),
        until=_moment("until", until),
    )
    scorecard_service.check_period(period)
    if drill is not None:
        scorecard_service.check_figure(drill)
    runtime = open_database()
    with reading(runtime.sessions) as session:
        if drill is not None:
            result = scorecard_service.drill_report(session, selection, drill, period)
        else:
            result = scorecard_service.report(session, selection, period)
    if as_json:
        typer.echo(json.dumps(result, indent=2, default=str))
    elif drill is not None:
        _print_drill(result)
    else:
        _print_scorecard(result)

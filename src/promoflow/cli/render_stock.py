"""Parts of a promotion's panel: its gate rounds, its stock moves and orders, its result
against the forecast's interval."""

from __future__ import annotations

from typing import Any

from promoflow.kit.words import plural
from promoflow.recommendations.schemas import RecommendationKind

APPLIED = ("auto_applied", "accepted", "edited")


def _round_text(found: dict[str, Any]) -> str:
    if found["failing"]:
        text = "[red]blocked[/] by " + ", ".join(found["failing"])
    else:
        text = "[green]every blocking gate passed[/]"
    if found["waived"]:
        text += " ([yellow]waived[/] " + ", ".join(found["waived"]) + ")"
    return text


def gate_story(rounds: list[dict[str, Any]]) -> str:
    """Every evaluation round, runs of identical rounds merged: 'round 1 blocked by …; 2–4 …'."""
    runs: list[tuple[int, int, str]] = []
    for number, found in enumerate(rounds, start=1):
        text = _round_text(found)
        if runs and runs[-1][2] == text:
            runs[-1] = (runs[-1][0], number, text)
        else:
            runs.append((number, number, text))
    return "; ".join(
        (f"round {first}" if first == last else f"rounds {first}–{last}") + f" {text}"
        for first, last, text in runs
    )


def _places(codes: list[str], what: str) -> str:
    named = [c for c in codes if c]
    if len(named) <= 3:
        return ", ".join(named) or f"no {what}"
    return plural(len(named), what)


def stock_lines(report: dict[str, Any]) -> list[str]:
    """The allocations and replenishments decided, and each purchase order raised."""
    lines = []
    for rec in report.get("recommendations", []):
        decided = rec["units_decided"] if rec["units_decided"] is not None else 0.0
        who = f" by {rec['decided_by']}" if rec["decided_by"] else ""
        head = f"[bold]{rec['kind']}[/] #{rec['id']} {rec['status']}{who}"
        if rec["status"] not in APPLIED:
            lines.append(f"{head}: {plural(rec['units_proposed'], 'unit')} proposed")
        elif not decided:
            lines.append(f"{head}: nothing to move or order")
        elif rec["kind"] == RecommendationKind.ALLOCATION:
            lines.append(
                f"{head}: {plural(decided, 'unit')} from {_places(rec['from'], 'DC')} "
                f"to {_places(rec['to'], 'store')}"
            )
        else:
            lines.append(f"{head}: {plural(decided, 'unit')} ordered")
    for order in report.get("purchase_orders", []):
        lines.append(
            f"[bold]purchase order[/] {order['number']}: {plural(order['units'], 'unit')} "
            f"from supplier {order['supplier']} to {order['destination']}, "
            f"{order['ack_status']} ({order['status']}), due {order['due']}"
        )
    return lines


def against_forecast(analysis: dict[str, Any]) -> str:
    """'forecast 974, within its 80 % interval 700–1,210' (or above/below it)."""
    forecast = f"forecast {analysis['forecast_units']:,.0f}"
    low, high = analysis.get("forecast_p10_units"), analysis.get("forecast_p90_units")
    if low is None or high is None:
        return forecast
    sold = analysis["actual_units"]
    where = "within" if low <= sold <= high else ("below" if sold < low else "above")
    return f"{forecast}; {where} its 80 % interval {low:,.0f}–{high:,.0f}"

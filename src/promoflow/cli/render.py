"""Rich renderings of promotion reports shared by `promotions show` and the demo."""

from __future__ import annotations

from typing import Any

from rich.console import Group
from rich.panel import Panel
from rich.table import Table

from promoflow.approvals.schemas import TaskStatus
from promoflow.cli.render_stock import against_forecast, gate_story, stock_lines
from promoflow.exceptions.schemas import CaseStatus
from promoflow.gates.schemas import GateStatus
from promoflow.kit.money import format_money
from promoflow.kit.words import plural
from promoflow.promotions.states import PromotionState
from promoflow.publications.schemas import PublicationStatus

VALIDATION_FAILED = "validation failed"

# A member equals its text, so the plain strings of a report look these up.
STATUS_STYLE: dict[str, str] = {
    PromotionState.CLOSED: "green",
    PromotionState.LIVE: "green",
    PromotionState.REJECTED: "red",  # a promotion or an approval task
    PromotionState.CANCELLED: "red",
    PromotionState.ON_HOLD: "yellow",
    GateStatus.PASS: "green",
    GateStatus.FAIL: "red",
    GateStatus.WAIVED: "yellow",
    TaskStatus.APPROVED: "green",  # an approval task or a promotion
    TaskStatus.EXPIRED: "red",
    PublicationStatus.PUBLISHED: "green",
    PublicationStatus.FAILED: "red",
    CaseStatus.OPEN: "yellow",
    CaseStatus.RESOLVED: "green",
}


def styled(value: str | None) -> str:
    text = value or "-"
    style = STATUS_STYLE.get(text)
    return f"[{style}]{text}[/]" if style else text


def money(amount: dict[str, str], locale: str) -> str:
    """A report's {"amount", "currency"} as people of `locale` write it (€183.44)."""
    return format_money(amount["amount"], amount["currency"], locale)


def promotion_panel(report: dict[str, Any], locale: str) -> Panel:
    """One promotion's timeline, gates, approvals, publications and exceptions; amounts
    written for `locale` (PROMOFLOW_LOCALE)."""
    from promoflow.promotions.validation import BLOCKING  # polars: only where a panel shows

    parts: list[Any] = []
    steps = " → ".join(step["state"] for step in report["timeline"])
    parts.append(f"[bold]timeline[/] {steps}")
    blocking = [f for f in report["findings"] if f["severity"] == BLOCKING]
    reason = report["status_reason"]
    if blocking and reason.startswith(VALIDATION_FAILED):
        # The findings are listed below; the reason would only repeat them.
        reason = f"{VALIDATION_FAILED} on {plural(len(blocking), 'blocking finding')}"
    parts.append(f"[bold]now[/] {styled(report['status'])}: {reason}")
    if report.get("gate_rounds"):
        parts.append(f"[bold]gate history[/] {gate_story(report['gate_rounds'])}")
    if report["gates"]:
        table = Table("gate", "status", "evidence", title=None, box=None, pad_edge=False)
        for gate in report["gates"]:
            note = gate["summary"] + (
                f" (waived: {gate['waiver_reason']})" if gate["waived_by"] else ""
            )
            table.add_row(gate["gate"], styled(gate["status"]), note)
        parts.append(table)
    if report["approvals"]:
        parts.append(
            "[bold]approvals[/] "
            + "; ".join(
                f"{a['role']} {styled(a['status'])}"
                + (f" by {a['decided_by']}" if a["decided_by"] else "")
                + (" (escalated)" if a["escalated"] else "")
                for a in report["approvals"]
            )
        )
    parts.extend(stock_lines(report))
    if report["publications"]:
        parts.append(
            "[bold]publications[/] "
            + "; ".join(
                f"{p['channel']} {styled(p['status'])} {p['prices']} prices"
                for p in report["publications"]
            )
        )
    for case in report["exceptions"]:
        parts.append(
            f"[bold]exception[/] #{case['id']} {case['kind']} {styled(case['status'])}"
            f" — {case['title']}"
            + (f"; {case['resolution']} by {case['resolved_by']}" if case["resolution"] else "")
        )
    for finding in blocking[:5]:
        parts.append(f"[red]finding[/] {finding['message']}")
    if len(blocking) > 5:
        parts.append(f"[red]finding[/] … and {len(blocking) - 5} more")
    if report["analysis"]:
        a = report["analysis"]
        parts.append(
            f"[bold]result[/] sold {a['actual_units']:,.0f} units "
            f"({against_forecast(a)}), revenue {money(a['revenue'], locale)}, "
            f"margin {money(a['margin'], locale)}"
            + (
                f" (planned {money(a['planned_margin'], locale)})"
                if a.get("planned_margin") is not None
                else ""
            )
            + (
                f"; {a['allocated_units_left']:,.0f} allocated units left unsold, "
                f"{money(a['markdown_exposure'], locale)} at cost"
                if a.get("allocated_units_left")
                else ""
            )
        )
    return Panel(
        Group(*parts),
        title=f"{report['code']} · {report['name']}",
        subtitle=f"rev {report['revision']}",
        expand=True,
    )

"""Rich renderings of promotion reports shared by `promotions show` and the demo."""

from __future__ import annotations

from typing import Any

from rich.console import Group
from rich.panel import Panel
from rich.table import Table

from promoflow.approvals.schemas import TaskStatus
from promoflow.exceptions.schemas import CaseStatus
from promoflow.gates.schemas import GateStatus
from promoflow.kit.money import format_money
from promoflow.promotions.states import PromotionState
from promoflow.promotions.validation import BLOCKING
from promoflow.publications.schemas import PublicationStatus

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
    parts: list[Any] = []
    steps = " → ".join(step["state"] for step in report["timeline"])
    parts.append(f"[bold]timeline[/] {steps}")
    parts.append(f"[bold]now[/] {styled(report['status'])}: {report['status_reason']}")
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
    blocking = [f for f in report["findings"] if f["severity"] == BLOCKING]
    for finding in blocking[:5]:
        parts.append(f"[red]finding[/] {finding['message']}")
    if report["analysis"]:
        a = report["analysis"]
        parts.append(
            f"[bold]result[/] sold {a['actual_units']:,.0f} units "
            f"(forecast {a['forecast_units']:,.0f}), revenue {money(a['revenue'], locale)}, "
            f"margin {money(a['margin'], locale)}"
        )
    return Panel(
        Group(*parts),
        title=f"{report['code']} · {report['name']}",
        subtitle=f"rev {report['revision']}",
        expand=True,
    )

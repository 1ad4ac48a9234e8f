"""The post-event report as PDF, drawn with ReportLab (BSD; pure Python, installs offline)."""

from __future__ import annotations

from io import BytesIO
from typing import Any

from reportlab.graphics.charts.barcharts import HorizontalBarChart, VerticalBarChart
from reportlab.graphics.shapes import Drawing, String
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.platypus import Flowable, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from promoflow.postevent.figures import rows

SOLD = colors.HexColor("#1f6f8b")
BASELINE = colors.HexColor("#b8c4cc")
GRID = TableStyle(
    [
        ("LINEBELOW", (0, 0), (-1, -1), 0.25, colors.HexColor("#dde3e8")),
        ("ALIGN", (1, 0), (1, -1), "RIGHT"),
        ("FONTSIZE", (0, 0), (-1, -1), 9),
    ]
)


def render_pdf(report: dict[str, Any]) -> bytes:
    """The whole report; the same bytes for the same report (no creation date inside)."""
    styles = getSampleStyleSheet()
    promotion = report["promotion"]
    story: list[Flowable] = [
        Paragraph(f"Post-event report {promotion['code']}", styles["Title"]),
        Paragraph(_escape(promotion["name"]), styles["Normal"]),
        Spacer(1, 4 * mm),
        Paragraph("Units sold against the baseline, per week", styles["Heading2"]),
        weekly_chart(report["weekly"]),
        Paragraph("Where the units came from", styles["Heading2"]),
        decomposition_chart(report["units"]),
        Paragraph("Figures", styles["Heading2"]),
        _table([[label, value, unit] for _, label, value, unit in rows(report)]),
        Paragraph("Reconciliation: POS, ERP stock movements, finance posting", styles["Heading2"]),
        Paragraph(f"Status: {report['reconciliation']['status']}", styles["Normal"]),
        _table(
            [
                [name.replace("_", " "), value or "–", ""]
                for name, value in report["reconciliation"]["totals"].items()
            ]
        ),
    ]
    for mismatch in report["reconciliation"]["mismatches"]:
        story.append(
            Paragraph(
                f"{_escape(mismatch['title'])} (exception case {mismatch['case_id']})",
                styles["Normal"],
            )
        )
    buffer = BytesIO()
    document = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        title=f"Post-event report {promotion['code']}",
        invariant=1,
        leftMargin=18 * mm,
        rightMargin=18 * mm,
    )
    document.build(story)
    return buffer.getvalue()


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _table(data: list[list[str]]) -> Table:
    table = Table(data, colWidths=[100 * mm, 40 * mm, 20 * mm])
    table.setStyle(GRID)
    return table


def weekly_chart(weekly: list[dict[str, Any]]) -> Drawing:
    """Grouped bars of units sold and baseline per week."""
    drawing = Drawing(170 * mm, 60 * mm)
    chart = VerticalBarChart()
    chart.x, chart.y = 30, 20
    chart.width, chart.height = round(150 * mm), round(45 * mm)
    chart.data = [[w["sold"] for w in weekly] or [0], [w["baseline"] for w in weekly] or [0]]
    chart.categoryAxis.categoryNames = [w["week"][5:] for w in weekly] or [""]
    chart.valueAxis.valueMin = 0
    chart.bars[0].fillColor = SOLD
    chart.bars[1].fillColor = BASELINE
    drawing.add(chart)
    drawing.add(String(32, 60 * mm - 10, "sold (dark) and baseline (light)", fontSize=8))
    return drawing


def decomposition_chart(units: dict[str, Any]) -> Drawing:
    """Baseline, incremental, cannibalised, pull-forward and net incremental units."""
    names = ["baseline", "incremental", "cannibalised", "pull-forward", "net incremental"]
    values = [
        units["baseline"],
        units["incremental"],
        -units["cannibalised"],
        -units["pull_forward"],
        units["net_incremental"],
    ]
    drawing = Drawing(170 * mm, 55 * mm)
    chart = HorizontalBarChart()
    chart.x, chart.y = 90, 10
    chart.width, chart.height = round(115 * mm), round(45 * mm)
    chart.data = [values]
    chart.categoryAxis.categoryNames = names
    chart.bars[0].fillColor = SOLD
    drawing.add(chart)
    return drawing

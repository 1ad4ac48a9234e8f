"""The post-event report as one self-contained HTML page: tables and inline SVG charts.

No script, stylesheet or font from elsewhere: the file reads the same offline. Each
figure carries `data-figure="<path in the JSON report>"`, so a reader (or a test)
can tie every number on the page to the JSON.
"""

from __future__ import annotations

from html import escape
from typing import Any

from promoflow.postevent.figures import rows

WIDTH, HEIGHT, PAD = 640, 240, 40
SOLD, BASELINE = "#1f6f8b", "#b8c4cc"
STYLE = (
    "body{font-family:system-ui,sans-serif;margin:2rem;color:#1b2733;max-width:60rem}"
    "table{border-collapse:collapse;margin:1rem 0}td,th{padding:.3rem .8rem;"
    "border-bottom:1px solid #dde3e8;text-align:left}td.n{text-align:right;"
    "font-variant-numeric:tabular-nums}.bad{color:#a3261b}.ok{color:#1d6b35}"
)


def render_html(report: dict[str, Any]) -> str:
    """The whole page."""
    promotion = report["promotion"]
    title = f"Post-event report {promotion['code']}"
    parts = [
        f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>{escape(title)}"
        f"</title><style>{STYLE}</style></head><body>",
        f"<h1>{escape(title)}</h1><p>{escape(promotion['name'])}</p>",
        _identity(promotion),
        "<h2>Units sold against the baseline, per week</h2>",
        weekly_chart(report["weekly"]),
        "<h2>Where the units came from</h2>",
        decomposition_chart(report["units"]),
        "<h2>Figures</h2>",
        _figures(report),
        "<h2>Reconciliation: POS, ERP stock movements, finance posting</h2>",
        _reconciliation(report["reconciliation"]),
        _method(report),
        "</body></html>",
    ]
    return "\n".join(parts)


def _identity(promotion: dict[str, Any]) -> str:
    cells = "".join(
        f"<tr><th>{escape(name.replace('_', ' '))}</th><td>{escape(str(value))}</td></tr>"
        for name, value in promotion.items()
        if name not in ("name",)
    )
    return f"<table>{cells}</table>"


def _figures(report: dict[str, Any]) -> str:
    body = "".join(
        f"<tr><th>{escape(label)}</th><td class='n' data-figure='{path}'>{escape(value)}</td>"
        f"<td>{escape(unit)}</td></tr>"
        for path, label, value, unit in rows(report)
    )
    return f"<table>{body}</table>"


def _reconciliation(reconciliation: dict[str, Any]) -> str:
    status = reconciliation["status"]
    css = "ok" if status == "matched" else "bad"
    totals = "".join(
        f"<tr><th>{escape(name.replace('_', ' '))}</th>"
        f"<td class='n' data-figure='reconciliation.totals.{name}'>{escape(value or '–')}</td></tr>"
        for name, value in reconciliation["totals"].items()
    )
    found = "".join(
        f"<li class='bad' data-check='{escape(m['check'])}'>{escape(m['title'])} "
        f"(exception case {m['case_id']})</li>"
        for m in reconciliation["mismatches"]
    )
    return (
        f"<p class='{css}' data-figure='reconciliation.status'>{escape(status)}</p>"
        f"<table>{totals}</table>" + (f"<ul>{found}</ul>" if found else "")
    )


def _method(report: dict[str, Any]) -> str:
    methods = ", ".join(f"{n} cells by {escape(m)}" for m, n in report["baseline_method"].items())
    assumed = report["costs"]["assumptions"]
    return (
        "<h2>Method</h2><p>Baseline measured from actuals, never the forecast: "
        f"{methods}. Display and feature costs are assumptions "
        f"({assumed['display_cost_per_store_week']} per store-week on display, "
        f"{assumed['feature_cost_per_week']} per week featured). See docs/post-event.md.</p>"
    )


def weekly_chart(weekly: list[dict[str, Any]]) -> str:
    """Grouped bars: units sold and baseline per week (the last week is the one after)."""
    if not weekly:
        return "<p>No weeks to chart.</p>"
    top = max(max(w["sold"], w["baseline"]) for w in weekly) or 1.0
    slot = (WIDTH - 2 * PAD) / len(weekly)
    bar = slot * 0.35
    shapes = [_axis(top)]
    for index, week in enumerate(weekly):
        x = PAD + index * slot + slot * 0.15
        for offset, (value, colour, name) in enumerate(
            ((week["sold"], SOLD, "sold"), (week["baseline"], BASELINE, "baseline"))
        ):
            height = (HEIGHT - 2 * PAD) * value / top
            shapes.append(
                f"<rect x='{x + offset * bar:.1f}' y='{HEIGHT - PAD - height:.1f}' "
                f"width='{bar:.1f}' height='{height:.1f}' fill='{colour}'>"
                f"<title>{week['week']} {name}: {value}</title></rect>"
            )
        shapes.append(
            f"<text x='{x + bar:.1f}' y='{HEIGHT - PAD + 14}' font-size='10' "
            f"text-anchor='middle'>{week['week'][5:]}</text>"
        )
    shapes.append(_legend((("sold", SOLD), ("baseline", BASELINE))))
    return _svg("Units sold and baseline per week", shapes)


def decomposition_chart(units: dict[str, Any]) -> str:
    """Horizontal bars: baseline, incremental, cannibalised, pull-forward, net incremental."""
    parts = (
        ("baseline", units["baseline"], BASELINE),
        ("incremental", units["incremental"], SOLD),
        ("cannibalised", -units["cannibalised"], "#c0612b"),
        ("pull-forward", -units["pull_forward"], "#d49a2a"),
        ("net incremental", units["net_incremental"], "#2f8a4a"),
    )
    top = max(abs(value) for _, value, _ in parts) or 1.0
    middle = WIDTH / 2 + 40
    scale = (WIDTH - middle - 10) / top
    shapes = [f"<line x1='{middle}' y1='10' x2='{middle}' y2='{HEIGHT - 10}' stroke='#888'/>"]
    for index, (name, value, colour) in enumerate(parts):
        y = 20 + index * 42
        length = abs(value) * scale
        x = middle if value >= 0 else middle - length
        shapes.append(
            f"<rect x='{x:.1f}' y='{y}' width='{length:.1f}' height='26' fill='{colour}'>"
            f"<title>{name}: {value}</title></rect>"
            f"<text x='10' y='{y + 17}' font-size='12'>{name} {value:,.1f}</text>"
        )
    return _svg("Units: baseline, incremental and what it cost elsewhere", shapes)


def _axis(top: float) -> str:
    return (
        f"<line x1='{PAD}' y1='{HEIGHT - PAD}' x2='{WIDTH - PAD}' y2='{HEIGHT - PAD}' "
        f"stroke='#888'/><text x='4' y='{PAD}' font-size='10'>{top:,.0f}</text>"
    )


def _legend(entries: tuple[tuple[str, str], ...]) -> str:
    return "".join(
        f"<rect x='{WIDTH - 150}' y='{8 + i * 16}' width='10' height='10' fill='{colour}'/>"
        f"<text x='{WIDTH - 135}' y='{17 + i * 16}' font-size='11'>{name}</text>"
        for i, (name, colour) in enumerate(entries)
    )


def _svg(label: str, shapes: list[str]) -> str:
    return (
        f"<svg xmlns='http://www.w3.org/2000/svg' role='img' aria-label='{escape(label)}' "
        f"width='{WIDTH}' height='{HEIGHT}' viewBox='0 0 {WIDTH} {HEIGHT}'>"
        + "".join(shapes)
        + "</svg>"
    )

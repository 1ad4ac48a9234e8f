"""The report's headline figures as labelled rows, shared by the HTML, the PDF and tests."""

from __future__ import annotations

from typing import Any

# (path in the JSON report, label); money rows carry the report's currency.
UNIT_ROWS = (
    ("units.sold", "Units sold"),
    ("units.baseline", "Baseline units (counterfactual)"),
    ("units.incremental", "Incremental units"),
    ("units.lift_pct", "Lift over baseline (%)"),
    ("units.cannibalised", "Cannibalised units (category siblings)"),
    ("units.halo", "Halo units (category siblings)"),
    ("units.pull_forward", "Pull-forward units (week after)"),
    ("units.net_incremental", "Net incremental units"),
)
MONEY_ROWS = (
    ("money.revenue", "Revenue"),
    ("money.baseline_revenue", "Baseline revenue"),
    ("money.incremental_revenue", "Incremental revenue"),
    ("money.margin", "Margin (incl. vendor funding)"),
    ("money.baseline_margin", "Baseline margin"),
    ("money.incremental_margin", "Incremental margin"),
    ("money.cannibalised_margin", "Cannibalised margin"),
    ("money.pull_forward_margin", "Pull-forward margin"),
    ("money.net_incremental_margin", "Net incremental margin (after display and feature)"),
    ("costs.markdown", "Markdown cost"),
    ("costs.display", "Display cost (assumed)"),
    ("costs.feature", "Feature cost (assumed)"),
    ("vendor_funding.earned", "Vendor funding earned"),
    ("vendor_funding.claimed", "Vendor funding claimed"),
    ("costs.net_cost", "Net promotion cost"),
)
RATIO_ROWS = (("costs.roi", "ROI (net incremental margin / net cost)"),)


def value_at(report: dict[str, Any], path: str) -> Any:
    """The value at a dotted path of the JSON report."""
    node: Any = report
    for part in path.split("."):
        node = node[part]
    return node


def shown(value: Any, decimals: int = 2) -> str:
    """How a figure reads in the HTML and PDF: the JSON's number in full, or a dash."""
    if value is None:
        return "–"
    if isinstance(value, int | float) and not isinstance(value, bool):
        return f"{value:,.{decimals}f}"
    return str(value)


def rows(report: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    """(path, label, shown value, unit) for every headline figure, in report order."""
    currency = str(report["currency"])
    result = [(path, label, shown(value_at(report, path)), "") for path, label in UNIT_ROWS]
    result += [(path, label, shown(value_at(report, path)), currency) for path, label in MONEY_ROWS]
    result += [(path, label, shown(value_at(report, path), 3), "") for path, label in RATIO_ROWS]
    return result

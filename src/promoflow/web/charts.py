"""Chart specifications for the packaged Plotly bundle (static/vendor/plotly.min.js).

A figure is plain Plotly JSON ({"data": [...], "layout": {...}}) built here and
drawn by console.js; building the dicts directly keeps the server from importing
plotly's Python package (slow to import) for what is a few lists. Every chart
also has a table beside it (in a <details>), for screen readers and for copying.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

# Colours distinguishable with common colour-blindness (Okabe-Ito), on white.
BASELINE = "#0072B2"
PROMOTED = "#D55E00"
BAND = "rgba(213, 94, 0, 0.18)"


@dataclass(frozen=True)
class ForecastPoint:
    """One week of a forecast: baseline, promoted forecast and its 80 % interval."""

    week: date
    baseline: float
    forecast: float
    p10: float
    p90: float


def forecast_figure(points: Sequence[ForecastPoint], title: str) -> dict[str, Any]:
    """Baseline vs promoted forecast with the 80 % interval, per week."""
    weeks = [point.week.isoformat() for point in points]
    band_x = weeks + weeks[::-1]
    band_y = [point.p90 for point in points] + [point.p10 for point in points][::-1]
    return {
        "data": [
            {
                "x": band_x,
                "y": band_y,
                "type": "scatter",
                "fill": "toself",
                "fillcolor": BAND,
                "line": {"width": 0},
                "hoverinfo": "skip",
                "name": "80 % interval (P10–P90)",
            },
            {
                "x": weeks,
                "y": [point.baseline for point in points],
                "type": "scatter",
                "mode": "lines+markers",
                "name": "baseline (no promotion)",
                "line": {"color": BASELINE, "dash": "dash"},
            },
            {
                "x": weeks,
                "y": [point.forecast for point in points],
                "type": "scatter",
                "mode": "lines+markers",
                "name": "promoted forecast",
                "line": {"color": PROMOTED},
            },
        ],
        "layout": {
            "title": {"text": title, "font": {"size": 14}},
            "height": 300,
            "margin": {"l": 50, "r": 10, "t": 40, "b": 40},
            "yaxis": {"title": {"text": "units"}, "rangemode": "tozero"},
            "legend": {"orientation": "h", "y": -0.2},
        },
    }


def heatmap_figure(
    rows: Sequence[str], columns: Sequence[str], values: Sequence[Sequence[float | None]]
) -> dict[str, Any]:
    """Stockout probability by region (rows) x category (columns)."""
    return {
        "data": [
            {
                "type": "heatmap",
                "z": [list(row) for row in values],
                "x": list(columns),
                "y": list(rows),
                "zmin": 0,
                "zmax": 1,
                "colorscale": "YlOrRd",
                "colorbar": {"title": {"text": "P(stockout)"}},
                "hovertemplate": "%{y} · %{x}: %{z:.0%}<extra></extra>",
            },
        ],
        "layout": {
            "height": 80 + 36 * max(len(rows), 1),
            "margin": {"l": 110, "r": 10, "t": 10, "b": 60},
        },
    }

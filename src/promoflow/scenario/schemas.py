"""What crosses the scenario boundary: the demo's verdicts, read by the CLI and its report."""

from __future__ import annotations

from typing import TypedDict


class DemoCheck(TypedDict):
    """One point the demo proves: whether the database bears it out, and what it found.

    A plain dict at run time, so the JSON report keeps its shape.
    """

    ok: bool
    detail: str

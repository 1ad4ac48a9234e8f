"""What every gate judge returns, and the wording and rounding their evidence shares."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import polars as pl

WORST_ROWS = 20  # rows of evidence kept per problem list
NAMED_IN_SUMMARY = 3
STAMP = "%Y-%m-%d %H:%M UTC"


@dataclass(frozen=True)
class Verdict:
    """One gate's judgement: passed, its score against the threshold, and why."""

    passed: bool
    score: float | None
    threshold: float | None
    summary: str
    evidence: dict[str, Any]


def pct(share: float) -> str:
    """0.9412 -> '94.1 %'."""
    return f"{share * 100:.1f} %"


def needs(share: float) -> str:
    """0.95 -> '95 %' (a policy threshold, shown as written)."""
    return f"{share * 100:g} %"


def some(names: list[str], total: int | None = None, sep: str = ", ") -> str:
    """'a, b, c and 4 more' for a summary sentence."""
    total = len(names) if total is None else total
    shown = sep.join(names[:NAMED_IN_SUMMARY])
    more = total - min(len(names), NAMED_IN_SUMMARY)
    return f"{shown} and {more} more" if more > 0 else shown


def rounded(frame: pl.DataFrame, digits: int = 3) -> list[dict[str, Any]]:
    """The frame's rows as JSON-ready dicts with floats rounded."""
    floats = [name for name, dtype in frame.schema.items() if dtype == pl.Float64]
    return frame.with_columns(pl.col(floats).round(digits)).to_dicts()

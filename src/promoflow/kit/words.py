"""Counts in words people read: "1 approval", "3 approvals", "the only approval"."""

from __future__ import annotations


def plural(count: float, singular: str, many: str | None = None) -> str:
    """`count` with the noun in the right number: '1 approval', '1,200 units'."""
    noun = singular if count == 1 else (many or singular + "s")
    return f"{count:,.0f} {noun}" if float(count).is_integer() else f"{count:,} {noun}"


def every(count: int, singular: str, many: str | None = None) -> str:
    """'the only approval' for one, 'all 3 approvals' for more."""
    return f"the only {singular}" if count == 1 else f"all {plural(count, singular, many)}"


def clip(text: str, width: int) -> str:
    """`text` shortened to at most `width` characters at a word boundary, with '…'."""
    if len(text) <= width:
        return text
    cut = text[: width - 1].rsplit(" ", 1)[0].rstrip(" ,;:(")
    return cut + "…"

"""XML text built by Polars over whole columns: escaped values, quoted attributes, slices."""

from __future__ import annotations

from collections.abc import Iterator
from typing import IO

import polars as pl

SLICE = 100_000  # elements rendered at a time: bounded memory, one write each

# As xml.sax.saxutils.escape and quoteattr do.
_TEXT = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}
_ATTRIBUTE = _TEXT | {"\n": "&#10;", "\r": "&#13;", "\t": "&#9;"}


def escaped(text: pl.Expr) -> pl.Expr:
    """Element text: &, < and > as entities."""
    return text.str.replace_many(_TEXT)


def quoted(text: pl.Expr) -> pl.Expr:
    """An attribute value quoted as quoteattr quotes it: in single quotes if it holds `"`."""
    text = text.str.replace_many(_ATTRIBUTE)
    double, single = text.str.contains('"', literal=True), text.str.contains("'", literal=True)
    return (
        pl.when(double & ~single)
        .then(pl.concat_str([pl.lit("'"), text, pl.lit("'")]))
        .otherwise(
            pl.concat_str(
                [pl.lit('"'), text.str.replace_all('"', "&quot;", literal=True), pl.lit('"')]
            )
        )
    )


def joined(frame: pl.DataFrame, key: str, text: pl.Expr, name: str) -> pl.DataFrame:
    """One row per `key` (in first-seen order) with its rows' `text` run together."""
    return frame.group_by(key, maintain_order=True).agg(text.str.join("").alias(name))


def in_slices(keys: pl.Series, frame: pl.DataFrame, key: str) -> Iterator[pl.DataFrame]:
    """For each SLICE of `keys`, the rows of `frame` whose `key` is in it.

    `frame` holds each key's rows together, in the order of `keys`, and no rows of
    other keys (as the log's frames do), so each slice is a cut, not a search.
    """
    counts = (
        keys.to_frame("key")
        .join(
            frame.group_by(key).len(),
            left_on="key",
            right_on=key,
            how="left",
            maintain_order="left",
        )
        .get_column("len")
        .fill_null(0)
    )
    ends = counts.cum_sum().to_list() if len(counts) else []
    for start in range(0, len(keys), SLICE):
        first = ends[start - 1] if start else 0
        last = ends[min(start + SLICE, len(keys)) - 1]
        yield frame.slice(first, last - first)


def write_lines(out: IO[str], lines: pl.Series) -> None:
    """Each text of `lines` followed by a newline, in one write."""
    if len(lines):
        out.write(lines.str.join("\n").item())
        out.write("\n")

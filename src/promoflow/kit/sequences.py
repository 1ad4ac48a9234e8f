"""Sequence helpers the standard library of Python 3.11 lacks."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TypeVar

T = TypeVar("T")


def chunked(values: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    """Consecutive slices of at most `size` values (`itertools.batched` is Python 3.12+)."""
    if size < 1:
        raise ValueError(f"size={size}: must be at least 1")
    for start in range(0, len(values), size):
        yield values[start : start + size]

"""Keyset pagination: a page starts after the last row's sort key, never at an offset.

A list ordered by a unique key (an id, a code, or a due time then an id) is paged
by asking for the rows after the last one a client saw. Rows inserted or removed
meanwhile neither repeat nor skip a row, and a late page costs what the first
does. Repositories add `after(...)` to their query; a list a service builds whole
(a promotion's few findings) filters with `rows_after`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.orm import QueryableAttribute

# A row's position in its list's order: the values of its ORDER BY columns.
SortKey = tuple[int | str | datetime, ...]
Row = TypeVar("Row")


def after(
    columns: Sequence[QueryableAttribute[Any] | sa.ColumnElement[Any]],
    key: SortKey,
    *,
    descending: bool = False,
) -> sa.ColumnElement[bool]:
    """The rows strictly after `key` in the order of `columns` (all ascending or all descending).

    Spelled out as (a > x) OR (a = x AND b > y) rather than a row-value comparison,
    so that each value goes through its column's type on SQLite and PostgreSQL alike.
    """
    if len(columns) != len(key):
        raise ValueError(f"a sort key of {len(columns)} values was expected, not {len(key)}")
    branches = []
    for index, column in enumerate(columns):
        equal = [columns[before] == key[before] for before in range(index)]
        beyond = column < key[index] if descending else column > key[index]
        branches.append(sa.and_(*equal, beyond))
    return sa.or_(*branches)


def rows_after(
    rows: Iterable[Row],
    key_of: Callable[[Row], SortKey],
    key: SortKey | None,
    *,
    descending: bool = False,
) -> list[Row]:
    """The rows of an already ordered list that come after `key` (all of them when None)."""
    if key is None:
        return list(rows)
    if descending:
        return [row for row in rows if _less(key_of(row), key)]
    return [row for row in rows if _less(key, key_of(row))]


def _less(left: SortKey, right: SortKey) -> bool:
    # Tuples of the same shape compare element by element, as ORDER BY does.
    return left < right

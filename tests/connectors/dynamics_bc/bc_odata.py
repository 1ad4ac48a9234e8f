"""The part of OData V4 URL conventions the Business Central fake understands.

Follows OData Version 4.01 Part 2 (URL Conventions): `$filter` with eq, ne, gt,
ge, lt, le joined by `and`/`or` with parentheses (`and` binds tighter), string
literals in single quotes with '' as the escaped quote, unquoted
DateTimeOffset, number and boolean literals; `$select`, `$orderby`, `$top`,
`$skip`, `$expand` with nested `$select`. Anything else raises `ODataError`,
which the fake answers with 400, as Business Central does for what it does not
support.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from typing import Any

TOKEN = re.compile(
    r"\s*(?:(?P<open>\()|(?P<close>\))|(?P<string>'(?:[^']|'')*')"
    r"|(?P<word>[A-Za-z_][A-Za-z0-9_]*)|(?P<value>[0-9][0-9T:.+\-Z]*))"
)
COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "eq": lambda a, b: a == b,
    "ne": lambda a, b: a != b,
    "gt": lambda a, b: a is not None and a > b,
    "ge": lambda a, b: a is not None and a >= b,
    "lt": lambda a, b: a is not None and a < b,
    "le": lambda a, b: a is not None and a <= b,
}
Predicate = Callable[[dict[str, Any]], bool]


class ODataError(Exception):
    """A query the service refuses; `code` as Business Central names it."""

    def __init__(self, message: str, code: str = "BadRequest") -> None:
        super().__init__(message)
        self.code = code


def _tokens(text: str) -> list[tuple[str, str]]:
    tokens, position = [], 0
    while position < len(text.rstrip()):
        match = TOKEN.match(text, position)
        if match is None or match.end() == position:
            raise ODataError(f"Syntax error at position {position} in '{text}'.")
        kind = match.lastgroup or ""
        tokens.append((kind, match.group(kind)))
        position = match.end()
    return tokens


def _literal(kind: str, text: str) -> Any:
    if kind == "string":
        return text[1:-1].replace("''", "'")
    if text in ("true", "false"):
        return text == "true"
    if "T" in text:
        return datetime.fromisoformat(text)
    try:
        return float(text)
    except ValueError:
        raise ODataError(f"Invalid literal '{text}'.") from None


def _comparable(value: Any, literal: Any) -> Any:
    if isinstance(literal, datetime) and isinstance(value, str):
        return datetime.fromisoformat(value)
    return value


class _Parser:
    def __init__(self, text: str) -> None:
        self.tokens = _tokens(text)
        self.position = 0

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.position] if self.position < len(self.tokens) else None

    def take(self) -> tuple[str, str]:
        token = self.peek()
        if token is None:
            raise ODataError("Unexpected end of the filter expression.")
        self.position += 1
        return token

    def expression(self) -> Predicate:
        terms = [self.conjunction()]
        while self.peek() == ("word", "or"):
            self.take()
            terms.append(self.conjunction())
        return lambda row: any(term(row) for term in terms)

    def conjunction(self) -> Predicate:
        terms = [self.term()]
        while self.peek() == ("word", "and"):
            self.take()
            terms.append(self.term())
        return lambda row: all(term(row) for term in terms)

    def term(self) -> Predicate:
        kind, text = self.take()
        if kind == "open":
            inner = self.expression()
            if self.take()[0] != "close":
                raise ODataError("')' or operator expected.")
            return inner
        if kind != "word":
            raise ODataError(f"Property name expected, found '{text}'.")
        field = text
        _, operator = self.take()
        if operator not in COMPARE:
            raise ODataError(
                f"The operator '{operator}' is not supported.", "BadRequest_NotSupported"
            )
        literal_kind, literal_text = self.take()
        value = _literal(literal_kind, literal_text)
        compare = COMPARE[operator]
        return lambda row: compare(_comparable(row.get(field), value), value)


def parse_filter(text: str) -> Predicate:
    """A predicate over rows for a `$filter` value."""
    parser = _Parser(text)
    predicate = parser.expression()
    if parser.peek() is not None:
        raise ODataError(f"Unexpected '{parser.peek()[1]}' in the filter expression.")  # type: ignore[index]
    return predicate


def parse_expand(text: str) -> dict[str, list[str] | None]:
    """`nav($select=a,b),other` -> {"nav": ["a", "b"], "other": None}."""
    expanded: dict[str, list[str] | None] = {}
    for match in re.finditer(r"([A-Za-z]+)(?:\(\$select=([^)]*)\))?(?:,|$)", text):
        expanded[match.group(1)] = match.group(2).split(",") if match.group(2) else None
    if not expanded:
        raise ODataError(f"Invalid $expand '{text}'.")
    return expanded


def order_rows(rows: list[dict[str, Any]], orderby: str) -> list[dict[str, Any]]:
    """Rows sorted by an `$orderby` list (`field [asc|desc]`, comma separated)."""
    for clause in reversed([c.strip() for c in orderby.split(",") if c.strip()]):
        field, _, direction = clause.partition(" ")
        rows = sorted(rows, key=lambda row: row.get(field) or "", reverse=direction == "desc")
    return rows

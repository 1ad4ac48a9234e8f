"""Rate-limit notation ("1200/minute", "10 per 2 seconds"), read the way the `limits`
library reads it, and checked once so that a mistyped setting stops the process at start
with the setting's name and value rather than failing on the first request."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    # `limits` loads where a rate is read, not with the settings that name rates.
    from limits import RateLimitItem

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_METHODS = WRITE_METHODS | {"GET", "HEAD"}
_ROUTE_KEY = re.compile(r"^(?P<method>[A-Z]+) (?P<path>/\S*)$")
# "1200/minute": the plain form (one positive count per one unit), which `limits` reads as
# one limit, is checked without importing it; any other spelling goes to the library.
_PLAIN_RATE = re.compile(r"^\s*[1-9][0-9]*\s*/\s*(second|minute|hour|day|month|year)s?\s*$")


def parse_rate(field: str, value: str) -> RateLimitItem:
    """The one limit `value` names; ValueError naming `field` when it is not exactly one."""
    from limits import parse_many

    try:
        items = parse_many(value)
    except ValueError:
        items = []
    if len(items) != 1:
        raise ValueError(
            f"{field}: {value!r} is not one rate limit; write it as COUNT/UNIT or "
            "COUNT per N UNITs, e.g. 1200/minute or 10 per 2 seconds"
        )
    item = items[0]
    if item.amount < 1:
        raise ValueError(f"{field}: {value!r} allows no request at all; give a count of 1 or more")
    return item


def check_rate(field: str, value: str) -> None:
    """Raise ValueError naming `field` unless `value` is one rate limit."""
    if _PLAIN_RATE.match(value) is None:
        parse_rate(field, value)


def split_route_key(key: str) -> tuple[str, str]:
    """`"POST /api/v1/promotions"` -> ("POST", "/api/v1/promotions"); ValueError otherwise."""
    match = _ROUTE_KEY.match(key)
    if match is None or match["method"] not in _METHODS:
        raise ValueError(
            f"rate_limit_routes: {key!r} is not a route; write the method, one space and the "
            "path as documented, e.g. 'POST /api/v1/promotions' "
            f"(methods: {', '.join(sorted(_METHODS))})"
        )
    return match["method"], match["path"]


def check_route_rate(key: str, value: str) -> None:
    """Raise ValueError naming the route unless `key` is a route and `value` one limit."""
    split_route_key(key)
    parse_rate(f"rate_limit_routes[{key!r}]", value)

"""What every OData-speaking connector reads and writes the same way, in one place.

Business Central (OData V4), SAP Gateway (OData V2) and Oracle's REST framework
(an OData-like row-match `q`) each used to carry their own copy of these, and one
connector imported another's mapping to get them. They live here so that no
connector imports another.

- `decode_name`/`enum_value`: Business Central writes enum member names as XML
  names, so a space is `_x0020_` and a dot `_x002E_` (`In_x0020_Review`,
  `Positive_x0020_Adjmt_x002E_`; see Microsoft Learn, "Business Central API v2.0:
  purchaseOrder" status values and the XmlConvert.EncodeName rules the OData
  stack applies to enum member names). Every enum read goes through `enum_value`.
- `literal`/`any_of`: filter expressions without `in`, which neither Business
  Central's API nor OData V2 accepts.
- `text`/`decimal`/`timestamp`: a row's field, checked, or `MalformedPayload`
  naming the field and value.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from promoflow.connectors.ports import MalformedPayload

# XmlConvert.EncodeName escapes a character that is not allowed in an XML name as
# `_xHHHH_` (UTF-16 code unit, four hex digits) or `_xHHHHHHHH_` (a surrogate pair).
_ESCAPED = re.compile(r"_x([0-9A-Fa-f]{8}|[0-9A-Fa-f]{4})_")


def decode_name(value: str) -> str:
    """`In_x0020_Review` -> `In Review`; a name without escapes comes back unchanged."""

    def unescape(match: re.Match[str]) -> str:
        code = int(match.group(1), 16)
        try:
            return chr(code)
        except (ValueError, OverflowError):
            return match.group(0)

    return _ESCAPED.sub(unescape, value)


def bad(system: str, what: str, payload: Any, field: str, value: Any) -> MalformedPayload:
    """The MalformedPayload that names the field and value that could not be read."""
    return MalformedPayload(
        system, f"{what}: {field}={value!r}", payload=payload, field=field, value=value
    )


def enum_value(system: str, row: Mapping[str, Any], field: str) -> str:
    """An enum property as its member's display name (`_xHHHH_` escapes decoded)."""
    value = row.get(field)
    if not isinstance(value, str):
        raise bad(system, "expected an enum member name", row, field, value)
    return decode_name(value)


def literal(value: str) -> str:
    """An OData string literal (single quotes doubled, as the OData ABNF says)."""
    return "'" + value.replace("'", "''") + "'"


def any_of(
    field: str,
    values: Iterable[str],
    *,
    equals: str = "eq",
    quote: Callable[[str], str] = literal,
) -> str:
    """`(field eq 'a' or field eq 'b')`: for services that do not take `in`.

    Oracle's row-match `q` spells equality `=` and quotes differently: pass
    `equals` and `quote` for it.
    """
    return "(" + " or ".join(f"{field} {equals} {quote(v)}" for v in values) + ")"


def text(system: str, row: Mapping[str, Any], field: str, *, required: bool = True) -> str:
    """A string property; required ones must be non-empty."""
    value = row.get(field)
    if value is None and not required:
        return ""
    if not isinstance(value, str) or (required and not value.strip()):
        raise bad(system, "expected a non-empty string", row, field, value)
    return value


def decimal(system: str, row: Mapping[str, Any], field: str) -> Decimal:
    """An Edm.Decimal property: a JSON number, or a string (IEEE754Compatible, OData V2)."""
    value = row.get(field)
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise bad(system, "expected a number", row, field, value)
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        raise bad(system, "expected a number", row, field, value) from None
    if not number.is_finite():
        raise bad(system, "expected a finite number", row, field, value)
    return number


def timestamp(system: str, row: Mapping[str, Any], field: str) -> datetime:
    """An Edm.DateTimeOffset property (ISO 8601 with its offset)."""
    value = row.get(field)
    if not isinstance(value, str):
        raise bad(system, "expected a timestamp", row, field, value)
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise bad(system, "expected an ISO 8601 timestamp", row, field, value) from None
    if parsed.tzinfo is None:
        raise bad(system, "expected a timestamp with its offset", row, field, value)
    return parsed

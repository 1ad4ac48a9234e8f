"""The documented file kinds: name pattern, columns, types, keys (docs/connectors/flatfile.md).

Values are checked here by hand rather than by a schema library because every
refusal must name the file, the row, the column and the value, and CSV (all text)
and Parquet (typed) must be held to the same rules.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

STATUSES = ("active", "inactive", "discontinued")
GTIN = re.compile(r"^(\d{8}|\d{12}|\d{13}|\d{14})$")


class BadValue(ValueError):
    """A value that does not fit its column; the message says what was expected."""


def _text(value: Any) -> str:
    text = str(value).strip()
    if not text:
        raise BadValue("must not be blank")
    return text


def _decimal(value: Any) -> Decimal:
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        raise BadValue("must be a decimal number with a dot, e.g. 2.49") from None
    if not number.is_finite() or number < 0:
        raise BadValue("must be a number >= 0")
    return number


def _amount(value: Any) -> Decimal:
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        raise BadValue("must be a decimal number with a dot, e.g. -3.50") from None
    if not number.is_finite():
        raise BadValue("must be a finite number")
    return number


def _number(value: Any) -> float:
    if isinstance(value, bool):
        raise BadValue("must be a number")
    try:
        number = float(str(value).strip())
    except ValueError:
        raise BadValue("must be a number with a dot, e.g. 12.5") from None
    if number != number or number in (float("inf"), float("-inf")):
        raise BadValue("must be a finite number")
    return number


def _quantity(value: Any) -> float:
    number = _number(value)
    if number < 0:
        raise BadValue("must be >= 0")
    return number


def _case_pack(value: Any) -> int:
    number = _number(value)
    if number != int(number) or number < 1:
        raise BadValue("must be a whole number >= 1")
    return int(number)


def _date(value: Any) -> date:
    if isinstance(value, datetime):
        raise BadValue("must be a date without a time, YYYY-MM-DD")
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError:
        raise BadValue("must be a date YYYY-MM-DD") from None


def _datetime(value: Any) -> datetime:
    if isinstance(value, datetime):
        moment = value
    else:
        try:
            moment = datetime.fromisoformat(str(value).strip())
        except ValueError:
            raise BadValue("must be an ISO 8601 time, e.g. 2026-03-01T06:00:00Z") from None
    # A time without an offset is UTC (documented); compare and store in UTC.
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _status(value: Any) -> str:
    text = _text(value).lower()
    if text not in STATUSES:
        raise BadValue(f"must be one of {', '.join(STATUSES)}")
    return text


def _gtin(value: Any) -> str:
    text = _text(value)
    if not GTIN.match(text):
        raise BadValue("must be 8, 12, 13 or 14 digits")
    return text


@dataclass(frozen=True)
class Column:
    name: str
    parse: Callable[[Any], Any]
    required: bool = True  # the column must be present and every value filled
    default: Any = None


@dataclass(frozen=True)
class FileKind:
    """One kind of file in the drop folder."""

    name: str
    prefix: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]

    def matches(self, file_name: str) -> bool:
        return file_name.startswith(self.prefix) and file_name.endswith((".csv", ".parquet"))


ITEMS = FileKind(
    "items",
    "items_",
    (
        Column("sku", _text),
        Column("name", _text),
        Column("status", _status, required=False, default="active"),
        Column("department", _text, required=False, default=""),
        Column("category", _text, required=False, default=""),
        Column("subcategory", _text, required=False, default=""),
        Column("brand", _text, required=False, default=""),
        Column("unit_cost", _decimal, required=False),
        Column("regular_price", _decimal, required=False),
        Column("case_pack", _case_pack, required=False),
        Column("gtin", _gtin, required=False),
        Column("supplier_code", _text, required=False),
    ),
    key=("sku",),
)

POSITIONS = FileKind(
    "positions",
    "positions_",
    (
        Column("sku", _text),
        Column("location_code", _text),
        Column("on_hand", _number),
        Column("on_order", _quantity, required=False, default=0.0),
        Column("in_transit", _quantity, required=False, default=0.0),
        Column("allocated", _quantity, required=False, default=0.0),
        Column("as_of", _datetime),
    ),
    key=("sku", "location_code"),
)

SALES = FileKind(
    "sales",
    "sales_",
    (
        Column("sku", _text),
        Column("location_code", _text),
        Column("day", _date),
        Column("units", _number),
        Column("revenue", _amount),
    ),
    key=("sku", "location_code", "day"),
)

KINDS = (ITEMS, POSITIONS, SALES)

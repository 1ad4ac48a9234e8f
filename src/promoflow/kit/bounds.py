"""Bounds a retailer would recognise, as reusable Pydantic types for every write body.

Each type refuses what no column, clock or person could use: money past what a
shelf price or a funding line reaches, more decimals than a cent, dates outside
a planning horizon, text longer than its column or holding control characters.
Each also declares itself in the JSON Schema, so the OpenAPI document says what
the server accepts. Numbers come as JSON numbers (a number sent as text, or a
boolean, is refused); booleans only as true or false.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BeforeValidator,
    Field,
    GetCoreSchemaHandler,
    GetJsonSchemaHandler,
    WithJsonSchema,
)
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import core_schema

from promoflow.kit.clock import utcnow

# Row ids are INTEGER columns: PostgreSQL casts a looked-up id to int4 and errs past
# 2^31 - 1 (SQLite holds 64 bits, so only one backend showed it). Offsets and
# revisions get the same bound: no list or promotion comes near it.
MAX_ID = 2**31 - 1
MAX_COUNT = 2**31 - 1
# Rows one page of any list holds at most: past it a client pages by cursor.
MAX_PAGE = 500
# A shelf price, a bundle or a per-unit amount above a million is a typo, not a deal;
# the columns (NUMERIC(12, 2)) hold ten integer digits, so every accepted value fits.
MAX_MONEY = Decimal(1_000_000)
EARLIEST_DATE = date(2000, 1, 1)
# Promotions are planned at most two years ahead and run at most a year.
HORIZON_DAYS = 731
LONGEST_PROMOTION_DAYS = 366
# Wall-clock hours a demo may compress a launch or a live period into: two years.
MAX_HOURS = 24.0 * HORIZON_DAYS
# Cs: a lone surrogate (no encoder, no database can store it); Cc: C0/C1 controls.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
_CONTROL_BUT_LINES = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")
# The same sets as JSON Schema patterns (surrogates cannot occur in valid JSON text).
_LINE_CHARS = r"\x00-\x1f\x7f-\x9f"
_PARAGRAPH_CHARS = r"\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f"


def _text_pattern(refused: str, *, required: bool) -> str:
    # A required text needs one character that is neither refused nor whitespace
    # (`\s` as Python reads it, which is what str.strip removes).
    if not required:
        return f"^[^{refused}]*$"
    return f"^[^{refused}]*[^\\s{refused}][^{refused}]*$"


# One line of printable text (possibly empty), as a JSON Schema pattern.
LINE_PATTERN = _text_pattern(_LINE_CHARS, required=False)


def _no_text_for_numbers(value: Any) -> Any:
    # Pydantic would read "20" or true as a number; a write body must say what it means.
    if isinstance(value, str | bool):
        raise ValueError("must be a JSON number, not text or a boolean")
    return value


def _whole_cents(value: Decimal) -> Decimal:
    # Runs after the range check, so quantize never meets a number it cannot hold.
    if value != value.quantize(Decimal("0.01")):
        raise ValueError("must have at most 2 decimal places (whole cents)")
    return value


_AMOUNT_SCHEMA = {"type": "number", "maximum": float(MAX_MONEY)}
# An amount of money, 0 to a million, in whole cents.
Money = Annotated[
    Decimal,
    BeforeValidator(_no_text_for_numbers),
    Field(ge=0, le=MAX_MONEY, allow_inf_nan=False),
    AfterValidator(_whole_cents),
    WithJsonSchema({**_AMOUNT_SCHEMA, "minimum": 0}),
]
# The same, above zero.
PositiveMoney = Annotated[
    Decimal,
    BeforeValidator(_no_text_for_numbers),
    Field(gt=0, le=MAX_MONEY, allow_inf_nan=False),
    AfterValidator(_whole_cents),
    WithJsonSchema({**_AMOUNT_SCHEMA, "exclusiveMinimum": 0}),
]
# A percentage above 0 and at most 100, to two decimals.
Percent = Annotated[
    Decimal,
    BeforeValidator(_no_text_for_numbers),
    Field(gt=0, le=100, allow_inf_nan=False),
    AfterValidator(_whole_cents),
    WithJsonSchema({"type": "number", "exclusiveMinimum": 0, "maximum": 100}),
]


def _within_horizon(value: date) -> date:
    latest = utcnow().date() + timedelta(days=HORIZON_DAYS)
    if value < EARLIEST_DATE:
        raise ValueError(f"must be on or after {EARLIEST_DATE.isoformat()}")
    if value > latest:
        raise ValueError(f"must be within two years from today (on or before {latest.isoformat()})")
    return value


def _calendar_date(value: Any) -> Any:
    # Pydantic would also read a number as seconds since 1970, and a timestamp at midnight.
    if isinstance(value, str) and not _ISO_DATE.fullmatch(value):
        raise ValueError("must be a date written YYYY-MM-DD")
    if not isinstance(value, str | date):
        raise ValueError("must be a date written YYYY-MM-DD, not a number")
    return value


_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
# A calendar date (YYYY-MM-DD, nothing else) from 2000 to two years ahead.
PlanningDate = Annotated[
    date,
    BeforeValidator(_calendar_date),
    Field(description="YYYY-MM-DD, from 2000-01-01 to two years from today"),
    AfterValidator(_within_horizon),
]

# Hours of a demo's compressed timing; real promotions leave them out.
Hours = Annotated[float, Field(strict=True, allow_inf_nan=False, le=MAX_HOURS)]
# Units of stock in one recommendation line or order: ten million is past any DC.
MAX_UNITS = 10_000_000.0


def _first_control(value: str, pattern: re.Pattern[str]) -> str | None:
    found = pattern.search(value)
    if found is None:
        return None
    char = found.group()
    name = unicodedata.name(char, "a control character or lone surrogate")
    return f"holds U+{ord(char):04X} ({name}) at position {found.start()}"


@dataclass(frozen=True)
class Text:
    """Printable text of bounded length: `Annotated[str, Text(200)]`.

    One line unless `lines`, which also allows tabs and line breaks. NUL, other
    control characters and lone surrogates are refused: PostgreSQL cannot store
    NUL, no encoder can write a lone surrogate, and neither belongs in a name.
    """

    max_length: int
    min_length: int = 0
    lines: bool = False

    def printable(self, value: str) -> str:
        """The value, or ValueError naming the first character no field accepts."""
        problem = _first_control(value, _CONTROL_BUT_LINES if self.lines else _CONTROL)
        if problem:
            advice = "tabs and line breaks" if self.lines else "on one line"
            raise ValueError(f"{problem}; use printable characters, {advice}")
        if self.min_length and not value.strip():
            raise ValueError("must not be blank")
        return value

    def validate(self, value: str) -> str:
        """Length and characters checked, for text that arrives outside a model."""
        if not self.min_length <= len(value) <= self.max_length:
            raise ValueError(f"must be {self.min_length} to {self.max_length} characters long")
        return self.printable(value)

    def __get_pydantic_core_schema__(
        self, source: type[Any], handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        return core_schema.no_info_after_validator_function(
            self.printable,
            core_schema.str_schema(min_length=self.min_length, max_length=self.max_length),
        )

    def __get_pydantic_json_schema__(
        self, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        return {
            "type": "string",
            "minLength": self.min_length,
            "maxLength": self.max_length,
            "pattern": _text_pattern(
                _PARAGRAPH_CHARS if self.lines else _LINE_CHARS, required=self.min_length > 0
            ),
        }

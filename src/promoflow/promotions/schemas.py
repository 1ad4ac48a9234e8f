"""Input and output shapes for promotions (API, CLI and scenario share them)."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from typing import Annotated, Literal, Self

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    WithJsonSchema,
    model_validator,
)

from promoflow.kit.bounds import (
    LONGEST_PROMOTION_DAYS,
    Money,
    Percent,
    PlanningDate,
    PositiveMoney,
    Text,
)

Mechanic = Literal["percent_off", "amount_off", "fixed_price", "multi_buy", "bundle"]
Channel = Literal["pos", "ecommerce"]


# A code names a promotion; an all-digit one would read as an id in every ref
# (`/promotions/2`), so a code needs a letter or one of `_ . -`.
CODE_PATTERN = r"^[A-Za-z0-9_.-]*[A-Za-z_.-][A-Za-z0-9_.-]*$"
CODE = re.compile(CODE_PATTERN)
# SKUs, store codes and regions as the catalogue's columns hold them.
CatalogueCode = Annotated[str, Text(32, min_length=1)]
RegionName = Annotated[str, Text(64, min_length=1)]
MAX_SCOPE = 5000  # SKUs or stores in one promotion; a chain-wide event fits
# Requests send amounts as plain numbers in the one configured currency; answers
# carry them as kit.money.MoneyAmount objects, which name it.
IN_CURRENCY = (
    "a JSON number in the deployment's currency (PROMOFLOW_CURRENCY, e.g. EUR), at most "
    '2 decimals; answers give amounts as {"amount": "4.99", "currency": "EUR"}'
)
MAX_REGIONS = 100


def _code_reads_as_code(value: str) -> str:
    if not CODE.fullmatch(value):
        if value.isascii() and value.isdigit():
            raise ValueError(
                "an all-digit code would read as a promotion id; add a letter, e.g. PRM-" + value
            )
        raise ValueError("use letters, digits, '_', '.' and '-' only")
    return value


PromotionCode = Annotated[
    str,
    Field(min_length=1, max_length=40),
    AfterValidator(_code_reads_as_code),
    WithJsonSchema({"type": "string", "minLength": 1, "maxLength": 40, "pattern": CODE_PATTERN}),
]


def check_window(start: date, end: date) -> None:
    """Raise ValueError unless the promotion ends on or after its start, within a year."""
    if end < start:
        raise ValueError(f"end_date {end} is before start_date {start}")
    if (end - start).days >= LONGEST_PROMOTION_DAYS:
        raise ValueError(
            f"runs from {start} to {end}; a promotion lasts at most {LONGEST_PROMOTION_DAYS} days"
        )


class PromotionCreate(BaseModel):
    """A promotion request as a merchandiser submits it.

    Every field is bounded (kit.bounds): amounts, percentages, dates within the
    planning horizon, text lengths; numbers and booleans are taken as JSON sends
    them, never read out of text.
    """

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    code: PromotionCode | None = None
    name: Annotated[str, Text(200, min_length=1)]
    description: Annotated[str, Text(4000, lines=True)] = ""
    mechanic: Mechanic
    discount_percent: Percent | None = None
    discount_amount: PositiveMoney | None = Field(default=None, description=IN_CURRENCY)
    fixed_price: Money | None = Field(default=None, description=IN_CURRENCY)
    buy_quantity: Annotated[int, Field(strict=True, ge=1, le=100)] | None = None
    get_quantity: Annotated[int, Field(strict=True, ge=1, le=100)] | None = None
    bundle_price: PositiveMoney | None = Field(default=None, description=IN_CURRENCY)
    start_date: PlanningDate
    end_date: PlanningDate
    channels: list[Channel] = Field(min_length=1, max_length=2)
    items: list[CatalogueCode] = Field(min_length=1, max_length=MAX_SCOPE, description="SKUs")
    locations: list[CatalogueCode] = Field(
        default_factory=list,
        max_length=MAX_SCOPE,
        description="Store codes; empty with regions = all their stores",
    )
    regions: list[RegionName] = Field(default_factory=list, max_length=MAX_REGIONS)
    display_support: StrictBool = False
    feature_support: StrictBool = False
    vendor_funding_per_unit: Money = Field(
        default=Decimal(0), json_schema_extra={"default": 0}, description=IN_CURRENCY
    )

    @model_validator(mode="after")
    def _coherent(self) -> Self:
        check_window(self.start_date, self.end_date)
        required = {
            "percent_off": "discount_percent",
            "amount_off": "discount_amount",
            "fixed_price": "fixed_price",
            "multi_buy": "buy_quantity",
            "bundle": "bundle_price",
        }[self.mechanic]
        if getattr(self, required) is None:
            raise ValueError(f"mechanic {self.mechanic!r} needs {required}")
        if self.mechanic == "multi_buy" and self.get_quantity is None:
            raise ValueError("mechanic 'multi_buy' needs get_quantity (units free)")
        if not self.locations and not self.regions:
            raise ValueError("give locations (store codes) or regions")
        if len(set(self.items)) != len(self.items):
            raise ValueError("items lists a SKU twice")
        return self


class PromotionOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    code: str
    name: str
    status: str
    status_reason: str
    revision: int
    requested_by: str
    category: str
    mechanic: str
    start_date: date
    end_date: date
    channels: list[str]
    display_support: bool
    feature_support: bool
    workflow_id: str | None


# The terms a mechanic reads; changing the mechanic drops the old one's unless restated.
MECHANIC_TERMS = (
    "discount_percent",
    "discount_amount",
    "fixed_price",
    "buy_quantity",
    "get_quantity",
    "bundle_price",
)


class PromotionRevise(BaseModel):
    """The fields a new revision changes; each as on create, and the result checked whole.

    Omitted fields keep their value. `items` replaces the SKUs; `locations` and
    `regions` together replace the target locations. The code never changes.
    """

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: Annotated[str, Text(200, min_length=1)] | None = None
    description: Annotated[str, Text(4000, lines=True)] | None = None
    mechanic: Mechanic | None = None
    discount_percent: Percent | None = None
    discount_amount: PositiveMoney | None = Field(default=None, description=IN_CURRENCY)
    fixed_price: Money | None = Field(default=None, description=IN_CURRENCY)
    buy_quantity: Annotated[int, Field(strict=True, ge=1, le=100)] | None = None
    get_quantity: Annotated[int, Field(strict=True, ge=1, le=100)] | None = None
    bundle_price: PositiveMoney | None = Field(default=None, description=IN_CURRENCY)
    start_date: PlanningDate | None = None
    end_date: PlanningDate | None = None
    channels: list[Channel] | None = Field(default=None, min_length=1, max_length=2)
    items: list[CatalogueCode] | None = Field(
        default=None, min_length=1, max_length=MAX_SCOPE, description="SKUs"
    )
    locations: list[CatalogueCode] | None = Field(
        default=None, max_length=MAX_SCOPE, description="Store codes"
    )
    regions: list[RegionName] | None = Field(default=None, max_length=MAX_REGIONS)
    display_support: StrictBool | None = None
    feature_support: StrictBool | None = None
    vendor_funding_per_unit: Money | None = Field(default=None, description=IN_CURRENCY)

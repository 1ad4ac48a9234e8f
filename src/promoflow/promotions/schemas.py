"""Input and output shapes for promotions (API, CLI and scenario share them)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

Mechanic = Literal["percent_off", "amount_off", "fixed_price", "multi_buy", "bundle"]
Channel = Literal["pos", "ecommerce"]


class PromotionCreate(BaseModel):
    """A promotion request as a merchandiser submits it."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    code: str | None = Field(default=None, max_length=40, pattern=r"^[A-Za-z0-9_.-]+$")
    name: str = Field(min_length=1, max_length=200)
    description: str = ""
    mechanic: Mechanic
    discount_percent: Decimal | None = Field(default=None, gt=0, le=100)
    discount_amount: Decimal | None = Field(default=None, gt=0)
    fixed_price: Decimal | None = Field(default=None, ge=0)
    buy_quantity: int | None = Field(default=None, ge=1, le=100)
    get_quantity: int | None = Field(default=None, ge=1, le=100)
    bundle_price: Decimal | None = Field(default=None, gt=0)
    start_date: date
    end_date: date
    channels: list[Channel] = Field(min_length=1)
    items: list[str] = Field(min_length=1, description="SKUs")
    locations: list[str] = Field(
        default_factory=list, description="Store codes; empty with regions = all their stores"
    )
    regions: list[str] = Field(default_factory=list)
    display_support: bool = False
    feature_support: bool = False
    vendor_funding_per_unit: Decimal = Field(default=Decimal(0), ge=0)

    @model_validator(mode="after")
    def _coherent(self) -> Self:
        if self.end_date < self.start_date:
            raise ValueError(f"end_date {self.end_date} is before start_date {self.start_date}")
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

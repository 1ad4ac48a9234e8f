"""What crosses the catalogue's boundary: vocabularies, filters and the read views."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from pydantic import BaseModel, ConfigDict

from promoflow.kit.money import MoneyAmount


class ItemStatus(StrEnum):
    ACTIVE = "active"
    INACTIVE = "inactive"
    DISCONTINUED = "discontinued"


class LocationKind(StrEnum):
    STORE = "store"
    DC = "dc"
    ECOMMERCE = "ecommerce"


class Channel(StrEnum):
    POS = "pos"
    ECOMMERCE = "ecommerce"


ITEM_STATUSES: tuple[str, ...] = tuple(status.value for status in ItemStatus)
LOCATION_KINDS: tuple[str, ...] = tuple(kind.value for kind in LocationKind)
CHANNELS: tuple[str, ...] = tuple(channel.value for channel in Channel)


class SupplierView(BaseModel):
    """A supplier as a buyer looks it up: code, name and how it has delivered."""

    model_config = ConfigDict(from_attributes=True, frozen=True)

    code: str
    name: str
    lead_time_days: int
    weekly_capacity_units: float
    on_time_rate: float
    fill_rate: float


class ItemView(BaseModel):
    """A SKU with what a merchandiser checks before promoting it.

    `promotable` is the item master's own verdict (active, not restricted, promotion
    eligible); whether a given store carries it is the eligibility route's question.
    """

    model_config = ConfigDict(frozen=True)

    sku: str
    name: str
    department: str
    category: str
    subcategory: str
    brand: str
    supplier_code: str | None
    unit_cost: MoneyAmount
    regular_price: MoneyAmount
    status: str
    restricted: bool
    promo_eligible: bool
    promotable: bool
    case_pack: int


class LocationView(BaseModel):
    """A store, distribution centre or e-commerce node and where it sits."""

    model_config = ConfigDict(from_attributes=True, frozen=True)

    code: str
    name: str
    kind: str
    region: str
    banner: str
    price_zone: str


class RangingView(BaseModel):
    """One item a location carries."""

    model_config = ConfigDict(frozen=True)

    sku: str
    location_code: str


class IneligibleReason(BaseModel):
    """Why an item may not be promoted somewhere: the validation rule it would break."""

    model_config = ConfigDict(frozen=True)

    rule: str
    message: str


class Eligibility(BaseModel):
    """Can this item be promoted at this location, and if not, every reason why."""

    model_config = ConfigDict(frozen=True)

    sku: str
    location_code: str
    eligible: bool
    reasons: list[IneligibleReason]


@dataclass(frozen=True)
class ItemFilter:
    """What a list of items is narrowed to; None leaves a field unfiltered."""

    category: str | None = None
    status: str | None = None
    sku_prefix: str | None = None


@dataclass(frozen=True)
class LocationFilter:
    """What a list of locations is narrowed to; None leaves a field unfiltered."""

    kind: str | None = None
    region: str | None = None
    banner: str | None = None

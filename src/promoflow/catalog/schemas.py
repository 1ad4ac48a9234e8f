"""What crosses the catalogue's boundary: the vocabularies of items, locations and prices."""

from __future__ import annotations

from enum import StrEnum


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

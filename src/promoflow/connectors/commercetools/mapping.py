"""Promo prices <-> commercetools Prices (the journal's document is in `journal`).

A promotion price becomes one Price for the SKU - embedded in the variant, or a
Standalone Price where the product's `priceMode` is Standalone - scoped to
the store's Channel (key = prefix + location code) and to the promotion's days
(validFrom = first day 00:00, validUntil = the day after the last, 00:00, in the
configured time zone). commercetools keeps one Price per scope (currency, country,
customer group, channel, validity), so the scope plus the amount identifies a
price we published even where the Price `key` is not kept. Every price we create
carries a key `pf-` + 32 hex digits (`OUR_PRICE_KEY`): that marker, and only that,
lets a later publication recognise and remove our expired prices.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

from commercetools.platform import models

from promoflow.connectors.ports import MalformedPayload, PriceChange

OUR_PRICE_KEY = re.compile(r"pf-[0-9a-f]{32}")
EMBEDDED = "Embedded"
STANDALONE = "Standalone"


def is_our_expired_price(key: str | None, valid_until: datetime | None, now: datetime) -> bool:
    """A price we created (by its key) whose validity ended; never one we did not create."""
    return (
        key is not None
        and OUR_PRICE_KEY.fullmatch(key) is not None
        and valid_until is not None
        and valid_until <= now
    )


@dataclass(frozen=True)
class PlannedPrice:
    """One promo price as commercetools will hold it."""

    sku: str
    channel_key: str
    currency: str
    cent_amount: int
    valid_from: datetime
    valid_until: datetime
    price_key: str
    channel_id: str = ""
    product_id: str = ""
    price_mode: str = EMBEDDED
    # How many of the publication's store prices this one stands for: more than one
    # for a chain-wide price without a channel (see `chain_wide`).
    covers: int = 1

    @property
    def where(self) -> str:
        return f"channel {self.channel_key}" if self.channel_key else "every store (no channel)"

    def _channel(self) -> models.ChannelResourceIdentifier | None:
        return models.ChannelResourceIdentifier(id=self.channel_id) if self.channel_key else None

    @property
    def standalone(self) -> bool:
        return self.price_mode == STANDALONE

    def standalone_draft(self) -> models.StandalonePriceDraft:
        return models.StandalonePriceDraft(
            key=self.price_key,
            sku=self.sku,
            value=models.Money(cent_amount=self.cent_amount, currency_code=self.currency),
            channel=self._channel(),
            valid_from=self.valid_from,
            valid_until=self.valid_until,
            active=True,
        )

    def draft(self) -> models.PriceDraft:
        return models.PriceDraft(
            key=self.price_key,
            value=models.Money(cent_amount=self.cent_amount, currency_code=self.currency),
            channel=self._channel(),
            valid_from=self.valid_from,
            valid_until=self.valid_until,
        )

    def same_scope(self, price: models.Price | models.StandalonePrice) -> bool:
        """Whether `price` occupies this price's scope (commercetools allows one per scope)."""
        return (
            price.value.currency_code == self.currency
            and (price.channel.id if price.channel else "") == self.channel_id
            and price.country is None
            and price.customer_group is None
            and price.valid_from == self.valid_from
            and price.valid_until == self.valid_until
        )

    def is_ours(self, price: models.Price | models.StandalonePrice) -> bool:
        """Whether `price` is this price as we published it."""
        if price.key is not None and price.key == self.price_key:
            return True
        return self.same_scope(price) and price.value.cent_amount == self.cent_amount

    def as_json(self) -> dict[str, Any]:
        return {
            "sku": self.sku,
            "channelKey": self.channel_key,
            "channelId": self.channel_id,
            "productId": self.product_id,
            "currency": self.currency,
            "centAmount": self.cent_amount,
            "validFrom": self.valid_from.isoformat(),
            "validUntil": self.valid_until.isoformat(),
            "priceKey": self.price_key,
            "priceMode": self.price_mode,
            "covers": self.covers,
        }


def _cents(system: str, index: int, change: PriceChange, digits: int) -> int:
    where = f"changes[{index}].price"
    try:
        scaled = Decimal(change.price).scaleb(digits)
    except (InvalidOperation, TypeError):
        raise MalformedPayload(
            system, f"{where}: not a number", payload=change, field=where, value=change.price
        ) from None
    if scaled < 0 or scaled != scaled.to_integral_value():
        raise MalformedPayload(
            system,
            f"{where}={change.price}: a price must be >= 0 with at most {digits} decimals "
            f"for SKU {change.sku}",
            payload=change,
            field=where,
            value=change.price,
        )
    return int(scaled)


def _midnight(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), tzinfo=zone)


def plan_prices(
    system: str,
    key: str,
    changes: Sequence[PriceChange],
    *,
    currency: str,
    fraction_digits: int,
    timezone: str,
    channel_prefix: str,
) -> list[PlannedPrice]:
    """Validate the changes and turn them into prices; MalformedPayload names the first bad one."""
    zone = ZoneInfo(timezone)
    planned: dict[tuple[str, str, date, date], tuple[int, PlannedPrice]] = {}
    for index, change in enumerate(changes):
        if change.end < change.start:
            raise MalformedPayload(
                system,
                f"changes[{index}].end={change.end}: before its start {change.start} "
                f"for SKU {change.sku}",
                payload=change,
                field=f"changes[{index}].end",
                value=change.end,
            )
        cents = _cents(system, index, change, fraction_digits)
        channel_key = f"{channel_prefix}{change.location_code}"
        scope = (change.sku, channel_key, change.start, change.end)
        scope_text = "|".join(str(part) for part in scope)
        price = PlannedPrice(
            sku=change.sku,
            channel_key=channel_key,
            currency=currency,
            cent_amount=cents,
            valid_from=_midnight(change.start, zone),
            valid_until=_midnight(change.end + timedelta(days=1), zone),
            price_key="pf-" + hashlib.sha256(f"{key}|{scope_text}".encode()).hexdigest()[:32],
        )
        earlier = planned.get(scope)
        if earlier is not None and earlier[1].cent_amount != cents:
            raise MalformedPayload(
                system,
                f"changes[{index}].price={change.price}: SKU {change.sku} at "
                f"{change.location_code} from {change.start} to {change.end} already has "
                f"another price in changes[{earlier[0]}]",
                payload=change,
                field=f"changes[{index}].price",
                value=change.price,
            )
        planned.setdefault(scope, (index, price))
    return [price for _, price in planned.values()]


def resolve(
    prices: Sequence[PlannedPrice], channel_ids: dict[str, str], products: dict[str, models.Product]
) -> list[PlannedPrice]:
    """The prices with their channel, product and price mode (every key must be in the maps)."""
    return [
        replace(
            p,
            channel_id=channel_ids[p.channel_key] if p.channel_key else "",
            product_id=products[p.sku].id,
            price_mode=price_mode(products[p.sku]),
        )
        for p in prices
    ]


def price_mode(product: models.Product) -> str:
    """Embedded unless the product says Standalone (commercetools' default when unset)."""
    mode = product.price_mode
    return STANDALONE if mode is not None and mode.value == STANDALONE else EMBEDDED


def variant_prices(product: models.Product, sku: str) -> list[models.Price] | None:
    """The current Prices of the variant with `sku` (None: the product has no such variant)."""
    data = product.master_data.current or product.master_data.staged
    if data is None:
        return None
    for variant in [data.master_variant, *(data.variants or [])]:
        if variant is not None and variant.sku == sku:
            return list(variant.prices or [])
    return None


def skus_of(product: models.Product) -> list[str]:
    data = product.master_data.current
    if data is None:
        return []
    return [v.sku for v in [data.master_variant, *(data.variants or [])] if v and v.sku]

"""One price without a channel where it shows the same as a price per store.

A chain-wide promotion sends one price per store; on an embedded product that is one
of the variant's 100 Prices per store. commercetools' price selection
(api/pricing-and-discounts-overview, "Price selection") looks for a Price scoped to
the requested channel first and falls back to one without a channel; within a scope
a price valid at the moment wins over an undated one. So one dated Price without a
channel shows at every store exactly like a dated Price per store - but only when:

- the publication gives the SKU the same amount on the same days at every
  ProductDistribution channel of the project (else a store outside the promotion
  would inherit it), and
- no Price of the variant for one of those channels is valid during those days (it
  would win at its channel), nor another channel-less dated one (two would compete).

It also shows where no channel is asked for at all; a promotion at every store channel
is chain-wide, so that is wanted. Anything else keeps one price per store. Standalone
products keep them too: they allow 50,000 prices per variant, and folding buys nothing.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime

from commercetools.platform import models

from .mapping import PlannedPrice, is_our_expired_price, variant_prices


def chain_wide(
    prices: Sequence[PlannedPrice],
    store_channels: set[str],
    products: dict[str, models.Product],
    now: datetime,
) -> list[PlannedPrice]:
    """The prices with each chain-wide group folded into one channel-less price."""
    groups: dict[tuple[str, datetime, datetime], list[PlannedPrice]] = {}
    for price in prices:
        groups.setdefault((price.sku, price.valid_from, price.valid_until), []).append(price)
    folded: list[PlannedPrice] = []
    for group in groups.values():
        first = group[0]
        if _foldable(group, store_channels, products[first.product_id], now):
            joined = "|".join(sorted(p.price_key for p in group))
            folded.append(
                replace(
                    first,
                    channel_key="",
                    channel_id="",
                    price_key="pf-" + hashlib.sha256(joined.encode()).hexdigest()[:32],
                    covers=sum(p.covers for p in group),
                )
            )
        else:
            folded.extend(group)
    return folded


def _foldable(
    group: Sequence[PlannedPrice],
    store_channels: set[str],
    product: models.Product,
    now: datetime,
) -> bool:
    first = group[0]
    if first.standalone or len(group) < 2 or not store_channels:
        return False
    if {p.cent_amount for p in group} != {first.cent_amount}:
        return False
    if {p.channel_id for p in group} != store_channels:
        return False
    for held in variant_prices(product, first.sku) or []:
        if is_our_expired_price(held.key, held.valid_until, now):
            continue  # removed by the same update
        if not _competes(held, first):
            continue
        at_a_store = held.channel is not None and held.channel.id in store_channels
        chain_dated = held.channel is None and (held.valid_from or held.valid_until)
        if at_a_store or chain_dated:
            return False
    return True


def _competes(held: models.Price, price: PlannedPrice) -> bool:
    """Same currency, no country or customer group, valid at some moment of the days."""
    return (
        held.value.currency_code == price.currency
        and held.country is None
        and held.customer_group is None
        and (held.valid_from is None or held.valid_from < price.valid_until)
        and (held.valid_until is None or held.valid_until > price.valid_from)
    )

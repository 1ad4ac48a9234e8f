"""Promotion prices for products in Standalone price mode, through the Standalone Prices API.

A product whose `priceMode` is Standalone is priced from Standalone Prices only
(api/projects/standalone-prices): an embedded price added to it is accepted and never
shown. Each price is its own resource, created with our key (POST /standalone-prices)
and deleted by that key with its version (DELETE /standalone-prices/key={key}), so a
retried publication finds what it already created by key and creates only the rest.
Same SKU and scope with an overlapping validity is refused by the API
(OverlappingStandalonePriceValidity); we look for that before writing anything.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import datetime

from commercetools import CommercetoolsError
from commercetools.platform import models
from commercetools.platform.client.by_project_key_request_builder import (
    ByProjectKeyRequestBuilder,
)

from promoflow.connectors.ports import ConnectorError
from promoflow.kit.sequences import chunked

from .client import QUERY_CHUNK, CommercetoolsClient, quoted
from .mapping import PlannedPrice, is_our_expired_price

PAGE = 500  # the most a commercetools query returns at once (api/limits, Queries)


def held_by_sku(
    client: CommercetoolsClient, skus: Iterable[str]
) -> dict[str, list[models.StandalonePrice]]:
    """Every Standalone Price of the SKUs, page by page."""
    held: dict[str, list[models.StandalonePrice]] = defaultdict(list)
    for chunk in chunked(sorted(set(skus)), QUERY_CHUNK):
        where = f"sku in ({quoted(chunk)})"
        offset = 0
        while True:

            def page_of(
                api: ByProjectKeyRequestBuilder, where: str = where, offset: int = offset
            ) -> models.StandalonePricePagedQueryResponse | None:
                return api.standalone_prices().get(where=[where], limit=PAGE, offset=offset)

            page = client.call("find standalone prices", page_of)
            results = page.results if page else []
            for price in results:
                held[price.sku].append(price)
            if len(results) < PAGE:
                break
            offset += PAGE
    return dict(held)


def refuse_overlaps(
    system: str, prices: Sequence[PlannedPrice], held: dict[str, list[models.StandalonePrice]]
) -> None:
    """Refuse a price whose scope and days another Standalone Price already covers."""
    for price in prices:
        for other in held.get(price.sku, []):
            if other.key == price.price_key or not _overlaps(price, other):
                continue
            raise ConnectorError(
                system,
                f"SKU {price.sku} on {price.where} from "
                f"{price.valid_from:%Y-%m-%d} to {price.valid_until:%Y-%m-%d} overlaps "
                f"Standalone Price {other.key or other.id} of {other.value.cent_amount} "
                f"{price.currency} cents; commercetools allows one per scope at a time; "
                "nothing was published",
                retryable=False,
            )


def _overlaps(price: PlannedPrice, other: models.StandalonePrice) -> bool:
    same_scope = (
        other.value.currency_code == price.currency
        and other.channel is not None
        and other.channel.id == price.channel_id
        and other.country is None
        and other.customer_group is None
    )
    starts_before_end = other.valid_from is None or other.valid_from < price.valid_until
    ends_after_start = other.valid_until is None or other.valid_until > price.valid_from
    return same_scope and starts_before_end and ends_after_start


def add_standalone(
    client: CommercetoolsClient, prices: Sequence[PlannedPrice], now: datetime
) -> None:
    """Create the prices not held yet (by key); delete our expired ones for these SKUs."""
    if not prices:
        return
    held = held_by_sku(client, {p.sku for p in prices})
    planned = {p.price_key for p in prices}
    for other in (p for group in held.values() for p in group):
        if other.key not in planned and is_our_expired_price(other.key, other.valid_until, now):
            delete_standalone(client, str(other.key))
    keys = {p.key for group in held.values() for p in group}
    for price in prices:
        if price.price_key not in keys:
            _create(client, price)


def _create(client: CommercetoolsClient, price: PlannedPrice) -> None:
    def create(api: ByProjectKeyRequestBuilder) -> None:
        try:
            api.standalone_prices().post(price.standalone_draft())
        except CommercetoolsError as error:
            # A retry after an answer lost in transit: the key is ours and taken.
            if "DuplicateField" not in error.codes:
                raise

    client.call(f"create standalone price {price.price_key}", create)


def delete_standalone(client: CommercetoolsClient, key: str) -> None:
    """Delete our Standalone Price `key` if it is still there."""

    def delete(api: ByProjectKeyRequestBuilder) -> None:
        found = api.standalone_prices().with_key(key).get()
        if found is not None:
            api.standalone_prices().with_key(key).delete(version=found.version)

    client.call(f"delete standalone price {key}", delete)

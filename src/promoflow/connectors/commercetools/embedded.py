"""The update actions one product's embedded Prices need, checked against the vendor's rules.

Pure: the same function validates every product before anything is written and
computes each update from the version it is sent against, so a refusal found while
validating never leaves a publication half-applied.

Rules (commercetools HTTP API reference):
- a ProductVariant holds at most 100 embedded Prices (api/limits); an update that
  would leave more is refused by the API as a whole, so we refuse it first, naming
  the product, the variant and the count;
- expired Prices are not removed by commercetools (Price.validUntil: "Prices that are
  no longer valid are not automatically removed"), so each update also removes our
  own expired ones - recognised by our key marker only (`is_our_expired_price`) -
  with `removePrice` (by priceId), in the same request as the `addPrice` actions;
- one Price per scope (currency, country, customer group, channel, validity).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import datetime

from commercetools.platform import models

from promoflow.connectors.ports import ConnectorError

from .mapping import PlannedPrice, is_our_expired_price, variant_prices

EMBEDDED_PRICES_PER_VARIANT = 100


def refuse_taken_scope(
    system: str, price: PlannedPrice, held: Sequence[models.Price | models.StandalonePrice]
) -> None:
    """Refuse a price whose scope holds another amount (commercetools keeps one per scope)."""
    if any(price.is_ours(existing) for existing in held):
        return
    taken = next((p for p in held if price.same_scope(p)), None)
    if taken is not None:
        raise ConnectorError(
            system,
            f"SKU {price.sku} on {price.where} from "
            f"{price.valid_from:%Y-%m-%d} to {price.valid_until:%Y-%m-%d} already has a "
            f"price of {taken.value.cent_amount} {price.currency} cents (another "
            "publication or a manual edit); remove it or change the dates; nothing "
            "was published",
            retryable=False,
        )


def embedded_actions(
    system: str, product: models.Product, group: Sequence[PlannedPrice], now: datetime
) -> list[models.ProductUpdateAction]:
    """Remove our expired prices, add the group's missing ones; refuse what the API would."""
    planned_keys = {price.price_key for price in group}
    removals: list[models.ProductUpdateAction] = []
    kept: dict[str, list[models.Price]] = {}
    for sku in {price.sku for price in group}:
        held = variant_prices(product, sku) or []
        expired = [
            p
            for p in held
            if p.key not in planned_keys and is_our_expired_price(p.key, p.valid_until, now)
        ]
        removals += [models.ProductRemovePriceAction(price_id=p.id, staged=False) for p in expired]
        kept[sku] = [p for p in held if p not in expired]
    additions: list[models.ProductUpdateAction] = []
    added: Counter[str] = Counter()
    for price in group:
        if any(price.is_ours(existing) for existing in kept[price.sku]):
            continue
        refuse_taken_scope(system, price, kept[price.sku])
        additions.append(
            models.ProductAddPriceAction(sku=price.sku, price=price.draft(), staged=False)
        )
        added[price.sku] += 1
    for sku, count in added.items():
        _refuse_over_limit(system, product, sku, len(kept[sku]) + count)
    return [*removals, *additions] if additions else removals


def _refuse_over_limit(system: str, product: models.Product, sku: str, count: int) -> None:
    if count <= EMBEDDED_PRICES_PER_VARIANT:
        return
    raise ConnectorError(
        system,
        f"product {product.key or product.id} variant {sku} would hold {count} embedded "
        f"prices; commercetools allows {EMBEDDED_PRICES_PER_VARIANT} per variant. Publish "
        "fewer stores, remove prices from the variant, or switch the product to "
        "Standalone prices; the product was not changed",
        retryable=False,
    )

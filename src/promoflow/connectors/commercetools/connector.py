"""commercetools: publishes promotion prices to the web shop as channel-scoped, dated Prices.

Each product's prices go where its `priceMode` says the shop reads them: embedded in
the variant (Embedded, the default) or as Standalone Prices.

A publication spanning many products is resumable, not all-or-nothing, and this is
deliberate. commercetools versions each resource on its own and has no transaction
across resources: one product's update request is applied entirely or not at all, but
nothing can make ten products change together. Compensating a failure by undoing the
products already updated would be another round of per-product writes that can fail
or meet a concurrent edit (409) in turn - leaving a mix again, after the shop has
shown the promotion for a moment. Instead:

1. Everything that can be refused is checked before the first write: unknown SKUs or
   channels, a scope holding someone else's price, a variant that would exceed 100
   embedded prices. A deterministic refusal therefore never happens half-way.
2. Every price carries a key derived from the idempotency key, and each write first
   looks for it, so repeating any product's update adds nothing twice.
3. The plan is journalled (a Custom Object, `pending`) before the first write. A call
   that stops half-way (outage, retries spent) is finished by the next call with the
   same key from that plan; the workflow's revert (compensation on cancel) withdraws
   by the same keys whatever the plan may have written.
An applied journal returns its first receipt.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import ClassVar

from commercetools.platform import models

from promoflow.connectors.framework import (
    ConnectionCheck,
    ConnectorConfig,
    ConnectorContext,
    Manifest,
    timed_check,
)
from promoflow.connectors.ports import ConnectorError, PriceChange, PublicationReceipt
from promoflow.kit.clock import utcnow
from promoflow.kit.logging import get_logger

from . import diagnostics
from .chain import chain_wide
from .client import CommercetoolsClient
from .embedded import embedded_actions
from .journal import (
    JOURNAL_CONTAINER,
    REVERT_CONTAINER,
    Journal,
    journal_key,
    parse_journal,
    parse_receipt,
    receipt_json,
)
from .manifest import MANIFEST
from .mapping import PlannedPrice, plan_prices, resolve, skus_of, variant_prices
from .settings import CommercetoolsSettings
from .standalone import add_standalone, delete_standalone, held_by_sku, refuse_overlaps

log = get_logger(__name__)


class CommercetoolsConnector:
    """Price publication to a commercetools project (PricePublisher)."""

    manifest: ClassVar[Manifest] = MANIFEST
    system_details = staticmethod(diagnostics.system_details)

    def __init__(self, config: ConnectorConfig, context: ConnectorContext) -> None:
        self.system = context.name
        # When prices expire; a test sets the day the shop is in.
        self.clock: Callable[[], datetime] = utcnow
        self._config = config
        self.settings = CommercetoolsSettings.read(config)
        endpoint = self.settings.endpoint()
        self.client = CommercetoolsClient(
            endpoint,
            lambda: config.secret("client_secret"),
            context.guard,
            self.system,
            config.policy,
        )

    def __repr__(self) -> str:
        return f"CommercetoolsConnector({self.system!r}, {self._config!r})"

    def check_connection(self) -> ConnectionCheck:
        """Fetch a token and read the project."""

        def probe() -> str:
            project = self.client.project()
            return f"project {project.key} ({project.name}), currencies {project.currencies}"

        return timed_check(probe)

    # --- PricePublisher -------------------------------------------------------------

    def publish_prices(self, key: str, changes: list[PriceChange]) -> PublicationReceipt:
        """Add every change's Price once per key; a repeated key returns the first receipt."""
        object_key = journal_key(key)
        stored = self.client.journal(object_key)
        if stored is not None:
            journal = parse_journal(self.system, stored.value)
            if journal.receipt is not None:
                return _duplicate(journal.receipt)
            prices = list(journal.prices)
            log.info("ct_publication_resumed", connection=self.system, key=key)
        else:
            prices = self._plan(key, changes)
            pending = Journal(key, "pending", tuple(prices))
            self.client.save_journal(object_key, pending.as_json())
        self._add_prices(prices)
        receipt = PublicationReceipt(
            key,
            self.system,
            sum(p.covers for p in prices),  # store prices, however many Prices hold them
            f"custom-objects/{JOURNAL_CONTAINER}/{object_key}",
        )
        applied = Journal(key, "applied", tuple(prices), receipt)
        self.client.save_journal(object_key, applied.as_json())
        return receipt

    def revert_prices(self, key: str) -> PublicationReceipt:
        """Remove the Prices `key` published; a repeated revert returns the first receipt."""
        object_key = journal_key(key)
        done = self.client.journal(object_key, REVERT_CONTAINER)
        if done is not None:
            return _duplicate(parse_receipt(self.system, done.value, REVERT_CONTAINER))
        stored = self.client.journal(object_key)
        if stored is None:
            return PublicationReceipt(key, self.system, 0, "")
        journal = parse_journal(self.system, stored.value)
        withdrawn = self._remove_prices(journal.prices)
        receipt = PublicationReceipt(
            key, self.system, withdrawn, f"custom-objects/{REVERT_CONTAINER}/{object_key}"
        )
        self.client.save_journal(object_key, receipt_json(receipt), REVERT_CONTAINER)
        return receipt

    # --- steps ---------------------------------------------------------------------

    def _plan(self, key: str, changes: Sequence[PriceChange]) -> list[PlannedPrice]:
        """Validated prices with channel, product and price mode; refuses the whole key
        (before any write) if one is off."""
        prices = plan_prices(
            self.system,
            key,
            changes,
            currency=self.settings.currency,
            fraction_digits=self.settings.fraction_digits,
            timezone=self.settings.timezone,
            channel_prefix=self.settings.channel_key_prefix,
        )
        channels = self.client.channel_ids(p.channel_key for p in prices)
        missing_channels = sorted({p.channel_key for p in prices} - set(channels))
        if missing_channels:
            raise ConnectorError(
                self.system,
                f"no commercetools channel with key {', '.join(missing_channels)}; create a "
                "channel per store (role ProductDistribution) or set channel_key_prefix",
                retryable=False,
            )
        products = self.client.products_for_skus(p.sku for p in prices)
        product_of = {sku: product for product in products for sku in skus_of(product)}
        missing_skus = sorted({p.sku for p in prices} - set(product_of))
        if missing_skus:
            raise ConnectorError(
                self.system,
                f"no published product variant with SKU {', '.join(missing_skus[:20])}"
                f"{' ...' if len(missing_skus) > 20 else ''}; nothing was published",
                retryable=False,
            )
        by_id = {product.id: product for product in products}
        resolved = self._fold_chain_wide(resolve(prices, channels, product_of), by_id)
        self._validate(resolved, by_id)
        return resolved

    def _fold_chain_wide(
        self, prices: list[PlannedPrice], products: dict[str, models.Product]
    ) -> list[PlannedPrice]:
        """One channel-less price per SKU and days where it shows like one per store."""
        per_sku = Counter((p.sku, p.valid_from) for p in prices if not p.standalone)
        if max(per_sku.values(), default=0) < 2:
            return prices  # no SKU has two stores: nothing to fold, no channel listing
        return chain_wide(prices, self.client.store_channel_ids(), products, self.clock())

    def _validate(
        self, prices: Sequence[PlannedPrice], products: dict[str, models.Product]
    ) -> None:
        """Compute every product's update now, so whatever the API would refuse is refused
        before the first write."""
        now = self.clock()
        for product_id, group in _by_product(p for p in prices if not p.standalone).items():
            embedded_actions(self.system, products[product_id], group, now)
        standalone = [p for p in prices if p.standalone]
        if standalone:
            refuse_overlaps(
                self.system, standalone, held_by_sku(self.client, {p.sku for p in standalone})
            )

    def _add_prices(self, prices: Sequence[PlannedPrice]) -> None:
        """One update per embedded product; one Standalone Price per standalone price."""
        now = self.clock()
        for product_id, group in _by_product(p for p in prices if not p.standalone).items():

            def actions(
                product: models.Product, group: list[PlannedPrice] = group
            ) -> list[models.ProductUpdateAction]:
                return embedded_actions(self.system, product, group, now)

            self.client.update_product("add promotion prices", product_id, actions)
        add_standalone(self.client, [p for p in prices if p.standalone], now)

    def _remove_prices(self, prices: Sequence[PlannedPrice]) -> int:
        """Remove our prices from each product; the count of the key's prices now withdrawn."""
        for product_id, group in _by_product(p for p in prices if not p.standalone).items():

            def actions(
                product: models.Product, group: list[PlannedPrice] = group
            ) -> list[models.ProductUpdateAction]:
                ids = {
                    existing.id
                    for price in group
                    for existing in variant_prices(product, price.sku) or []
                    if price.is_ours(existing)
                }
                return [models.ProductRemovePriceAction(price_id=i, staged=False) for i in ids]

            self.client.update_product("remove promotion prices", product_id, actions)
        for price in prices:
            if price.standalone:
                delete_standalone(self.client, price.price_key)
        # Once every update succeeded none of the key's prices is held, so a revert retried
        # after a crash reports the same count as the first.
        return sum(p.covers for p in prices)


def _by_product(prices: Iterable[PlannedPrice]) -> dict[str, list[PlannedPrice]]:
    grouped: dict[str, list[PlannedPrice]] = defaultdict(list)
    for price in prices:
        grouped[price.product_id].append(price)
    return dict(grouped)


def _duplicate(receipt: PublicationReceipt) -> PublicationReceipt:
    return PublicationReceipt(
        receipt.key, receipt.system, receipt.accepted, receipt.external_ref, duplicate=True
    )

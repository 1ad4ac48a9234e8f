"""commercetools: publishes promotion prices to the web shop as channel-scoped, dated Prices.

Idempotency survives a crash anywhere: before writing, the key's journal (a Custom
Object) is looked up. An applied journal returns its first receipt. A pending one
(the last attempt stopped half-way) is finished from the plan it recorded; every
price write first checks the variant for the price, so nothing is added twice.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import ClassVar

from commercetools.platform import models

from promoflow.connectors.framework import (
    Capability,
    ConfigField,
    ConnectionCheck,
    ConnectorConfig,
    ConnectorContext,
    Manifest,
    timed_check,
    timeout_field,
)
from promoflow.connectors.ports import ConnectorError, PriceChange, PublicationReceipt
from promoflow.kit.logging import get_logger

from .client import CommercetoolsClient, Endpoint
from .mapping import (
    JOURNAL_CONTAINER,
    REVERT_CONTAINER,
    Journal,
    PlannedPrice,
    journal_key,
    parse_journal,
    parse_receipt,
    plan_prices,
    receipt_json,
    resolve,
    skus_of,
    variant_prices,
)

log = get_logger(__name__)
DEFAULT_SCOPES = (
    "manage_products:{project} manage_key_value_documents:{project} "
    "view_channels:{project} view_project_settings:{project}"
)


class CommercetoolsConnector:
    """Price publication to a commercetools project (PricePublisher)."""

    manifest: ClassVar[Manifest] = Manifest(
        slug="commercetools",
        name="commercetools",
        kind="commerce",
        protocol="commercetools HTTP API (official Python SDK), OAuth 2 client credentials",
        capabilities=(Capability.PRICE_PUBLICATION,),
        config=(
            ConfigField("project_key", description="the commercetools project key"),
            ConfigField(
                "api_url",
                "url",
                default="https://api.europe-west1.gcp.commercetools.com",
                description="the region's API URL",
            ),
            ConfigField(
                "auth_url",
                "url",
                default="https://auth.europe-west1.gcp.commercetools.com",
                description="the region's auth URL (the token endpoint is /oauth/token)",
            ),
            ConfigField("client_id", description="API client id"),
            ConfigField(
                "client_secret", secret=True, description="API client secret (env: or file:)"
            ),
            ConfigField(
                "scopes",
                required=False,
                description="space-separated scopes; default: manage_products, "
                "manage_key_value_documents, view_channels, view_project_settings",
            ),
            ConfigField("currency", default="EUR", description="ISO 4217 currency of prices"),
            ConfigField(
                "fraction_digits",
                "integer",
                default=2,
                description="the currency's decimals (ISO 4217: 0 to 4)",
                minimum=0,
                maximum=4,
            ),
            ConfigField(
                "timezone",
                default="UTC",
                description="IANA zone in which a promotion day starts at 00:00",
            ),
            ConfigField(
                "channel_key_prefix",
                required=False,
                default="",
                description="channel key = prefix + our location code",
            ),
            timeout_field(),
        ),
        description="Promotion prices as channel-scoped, dated embedded Prices on variants",
    )

    def __init__(self, config: ConnectorConfig, context: ConnectorContext) -> None:
        self.system = context.name
        self._config = config
        project = str(config.get("project_key"))
        scopes = str(config.get("scopes") or DEFAULT_SCOPES.format(project=project)).split()
        endpoint = Endpoint(
            project_key=project,
            api_url=str(config.get("api_url")).rstrip("/"),
            auth_url=str(config.get("auth_url")).rstrip("/") + "/oauth/token",
            client_id=str(config.get("client_id")),
            scopes=tuple(scopes),
            secret_reference=str(config.get("client_secret")),
            timeout_seconds=float(config.get("timeout_seconds")),
        )
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
            key, self.system, len(prices), f"custom-objects/{JOURNAL_CONTAINER}/{object_key}"
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

    # --- steps ----------------------------------------------------------------------

    def _plan(self, key: str, changes: Sequence[PriceChange]) -> list[PlannedPrice]:
        """Validated prices with their channel and product; refuses the whole key if one is off."""
        prices = plan_prices(
            self.system,
            key,
            changes,
            currency=str(self._config.get("currency")),
            fraction_digits=int(self._config.get("fraction_digits")),
            timezone=str(self._config.get("timezone")),
            channel_prefix=str(self._config.get("channel_key_prefix") or ""),
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
        product_of = {sku: product.id for product in products for sku in skus_of(product)}
        missing_skus = sorted({p.sku for p in prices} - set(product_of))
        if missing_skus:
            raise ConnectorError(
                self.system,
                f"no published product variant with SKU {', '.join(missing_skus[:20])}"
                f"{' ...' if len(missing_skus) > 20 else ''}; nothing was published",
                retryable=False,
            )
        resolved = resolve(prices, channels, product_of)
        by_id = {product.id: product for product in products}
        for price in resolved:
            self._refuse_taken_scope(price, variant_prices(by_id[price.product_id], price.sku))
        return resolved

    def _refuse_taken_scope(self, price: PlannedPrice, held: list[models.Price] | None) -> None:
        """Refuse a price whose scope holds another amount (commercetools keeps one per scope)."""
        held = held or []
        if any(price.is_ours(existing) for existing in held):
            return
        taken = next((p for p in held if price.same_scope(p)), None)
        if taken is not None:
            raise ConnectorError(
                self.system,
                f"SKU {price.sku} on channel {price.channel_key} from "
                f"{price.valid_from:%Y-%m-%d} to {price.valid_until:%Y-%m-%d} already has a "
                f"price of {taken.value.cent_amount} {price.currency} cents (another "
                "publication or a manual edit); remove it or change the dates; nothing "
                "was published",
                retryable=False,
            )

    def _add_prices(self, prices: Sequence[PlannedPrice]) -> None:
        """One update per product adding the prices it does not hold yet."""
        for product_id, group in _by_product(prices).items():

            def actions(
                product: models.Product, group: list[PlannedPrice] = group
            ) -> list[models.ProductUpdateAction]:
                wanted: list[models.ProductUpdateAction] = []
                for price in group:
                    held = variant_prices(product, price.sku) or []
                    if any(price.is_ours(existing) for existing in held):
                        continue
                    self._refuse_taken_scope(price, held)
                    wanted.append(
                        models.ProductAddPriceAction(
                            sku=price.sku, price=price.draft(), staged=False
                        )
                    )
                return wanted

            self.client.update_product("add promotion prices", product_id, actions)

    def _remove_prices(self, prices: Sequence[PlannedPrice]) -> int:
        """Remove our prices from each product; the count of the key's prices now withdrawn."""
        for product_id, group in _by_product(prices).items():

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
        # Once every update succeeded none of the key's prices is held, so a revert retried
        # after a crash reports the same count as the first.
        return len(prices)


def _by_product(prices: Sequence[PlannedPrice]) -> dict[str, list[PlannedPrice]]:
    grouped: dict[str, list[PlannedPrice]] = defaultdict(list)
    for price in prices:
        grouped[price.product_id].append(price)
    return dict(grouped)


def _duplicate(receipt: PublicationReceipt) -> PublicationReceipt:
    return PublicationReceipt(
        receipt.key, receipt.system, receipt.accepted, receipt.external_ref, duplicate=True
    )

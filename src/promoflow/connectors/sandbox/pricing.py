"""Sandbox POS and e-commerce pricing: activate promo prices once per key, revert them."""

from __future__ import annotations

from datetime import date

from sqlalchemy.orm import Session, sessionmaker

from promoflow.connectors.ports import PriceChange, PublicationReceipt
from promoflow.connectors.sandbox import repository
from promoflow.connectors.sandbox.client import Rejected, SandboxSystem
from promoflow.kit.clock import utcnow
from promoflow.kit.db import transaction

PUBLISHERS = {
    "pos": ("sandbox-pos", "POS"),
    "ecommerce": ("sandbox-ecommerce", "WEB"),
}


class SandboxPricePublisher(SandboxSystem):
    """A channel's price engine; `channel` is "pos" or "ecommerce"."""

    def __init__(self, sessions: sessionmaker[Session], channel: str) -> None:
        super().__init__(sessions)
        if channel not in PUBLISHERS:
            raise ValueError(f"channel={channel!r}: expected one of {', '.join(PUBLISHERS)}")
        self.channel = channel
        self.system, self.reference_prefix = PUBLISHERS[channel]

    def publish_prices(self, key: str, changes: list[PriceChange]) -> PublicationReceipt:
        """Apply all changes atomically once per key; a repeated key returns the first receipt."""

        def apply(session: Session) -> PublicationReceipt:
            earlier = self.first_receipt(session, "publish_prices", key)
            if earlier is not None:
                self.record(session, "publish_prices", key, "duplicate")
                return PublicationReceipt(
                    key, self.system, earlier.accepted, earlier.external_ref, duplicate=True
                )
            self._validate(session, changes)
            now = utcnow()
            rows = [
                {
                    "system": self.system,
                    "location_code": c.location_code,
                    "sku": c.sku,
                    "price": c.price,
                    "regular_price": c.regular_price,
                    "start": c.start,
                    "end": c.end,
                    "publication_key": key,
                    "applied_at": now,
                }
                for c in changes
            ]
            if rows:
                repository.insert_channel_prices(session, rows)
            receipt = self.new_receipt(session, "publish_prices", key, len(rows))
            self.record(session, "publish_prices", key, "applied", f"{len(rows)} prices")
            return PublicationReceipt(key, self.system, len(rows), receipt.external_ref)

        return self.call("publish_prices", key, apply)

    def revert_prices(self, key: str) -> PublicationReceipt:
        """Withdraw what `key` published (compensation on cancel); repeats change nothing."""

        def apply(session: Session) -> PublicationReceipt:
            earlier = self.first_receipt(session, "revert_prices", key)
            if earlier is not None:
                self.record(session, "revert_prices", key, "duplicate")
                return PublicationReceipt(
                    key, self.system, earlier.accepted, earlier.external_ref, duplicate=True
                )
            withdrawn = repository.revert_channel_prices(session, self.system, key, utcnow())
            receipt = self.new_receipt(session, "revert_prices", key, withdrawn)
            self.record(session, "revert_prices", key, "applied", f"{withdrawn} withdrawn")
            return PublicationReceipt(key, self.system, withdrawn, receipt.external_ref)

        return self.call("revert_prices", key, apply)

    def _validate(self, session: Session, changes: list[PriceChange]) -> None:
        for change in changes:
            if change.channel != self.channel:
                raise Rejected(f"channel={change.channel!r} sent to the {self.channel} system")
            if change.price < 0 or change.regular_price <= 0:
                raise Rejected(f"sku={change.sku}: price {change.price} is not a valid price")
            if change.end < change.start:
                raise Rejected(f"sku={change.sku}: end {change.end} is before start")
        skus = {c.sku for c in changes}
        unknown_skus = skus - repository.known_skus(session, skus)
        if unknown_skus:
            raise Rejected(f"unknown sku(s) {', '.join(sorted(unknown_skus)[:5])}")
        codes = {c.location_code for c in changes}
        unknown_locations = codes - repository.known_location_codes(session, codes)
        if unknown_locations:
            raise Rejected(f"unknown location(s) {', '.join(sorted(unknown_locations)[:5])}")


def applied_price_counts(
    sessions: sessionmaker[Session], system: str = "sandbox-pos"
) -> dict[tuple[str, str], int]:
    """How many times each (sku, location_code) price was applied (1 = exactly once)."""
    with transaction(sessions) as session:
        return repository.price_application_counts(session, system)


def price_applications(sessions: sessionmaker[Session], system: str) -> list[tuple[str, str, str]]:
    """(publication_key, sku, location_code) of every price `system` applied, repeats included."""
    with transaction(sessions) as session:
        return repository.price_applications(session, system)


def active_prices(
    sessions: sessionmaker[Session], system: str, on: date
) -> dict[tuple[str, str], float]:
    """Promo price in force per (sku, location_code) on a day (latest applied wins)."""
    with transaction(sessions) as session:
        rows = repository.prices_in_force(session, system, on)
    return {(sku, code): float(price) for sku, code, price in rows}

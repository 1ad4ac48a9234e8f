"""Sandbox POS and e-commerce pricing: activate promo prices once per key, revert them."""

from __future__ import annotations

from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session, sessionmaker

from promoflow.catalog.models import Item, Location
from promoflow.connectors.ports import PriceChange, PublicationReceipt
from promoflow.connectors.sandbox.base import Rejected, SandboxSystem
from promoflow.connectors.sandbox.models import SandboxChannelPrice
from promoflow.kit.clock import utcnow
from promoflow.kit.db import transaction

PUBLISHERS = {
    "pos": ("sandbox-pos", "POS"),
    "ecommerce": ("sandbox-ecommerce", "WEB"),
}
IN_CHUNK = 900


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
                session.execute(sa.insert(SandboxChannelPrice), rows)
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
            result = session.execute(
                sa.update(SandboxChannelPrice)
                .where(
                    SandboxChannelPrice.system == self.system,
                    SandboxChannelPrice.publication_key == key,
                    SandboxChannelPrice.reverted_at.is_(None),
                )
                .values(reverted_at=utcnow())
            )
            withdrawn = int(getattr(result, "rowcount", 0) or 0)
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
        unknown_skus = _missing(session, Item.sku, {c.sku for c in changes})
        if unknown_skus:
            raise Rejected(f"unknown sku(s) {', '.join(sorted(unknown_skus)[:5])}")
        unknown_locations = _missing(session, Location.code, {c.location_code for c in changes})
        if unknown_locations:
            raise Rejected(f"unknown location(s) {', '.join(sorted(unknown_locations)[:5])}")


def _missing(session: Session, column: Any, values: set[str]) -> set[str]:
    found: set[str] = set()
    ordered = sorted(values)
    for start in range(0, len(ordered), IN_CHUNK):
        chunk = ordered[start : start + IN_CHUNK]
        found.update(session.scalars(sa.select(column).where(column.in_(chunk))))
    return values - found


def applied_price_counts(
    sessions: sessionmaker[Session], system: str = "sandbox-pos"
) -> dict[tuple[str, str], int]:
    """How many times each (sku, location_code) price was applied (1 = exactly once)."""
    query = sa.select(
        SandboxChannelPrice.sku, SandboxChannelPrice.location_code, sa.func.count()
    ).where(SandboxChannelPrice.system == system)
    query = query.group_by(SandboxChannelPrice.sku, SandboxChannelPrice.location_code)
    with transaction(sessions) as session:
        return {(sku, code): int(n) for sku, code, n in session.execute(query)}


def active_prices(
    sessions: sessionmaker[Session], system: str, on: date
) -> dict[tuple[str, str], float]:
    """Promo price in force per (sku, location_code) on a day (latest applied wins)."""
    table = SandboxChannelPrice
    query = (
        sa.select(table.sku, table.location_code, table.price)
        .where(table.system == system, table.reverted_at.is_(None))
        .where(table.start <= on, table.end >= on)
        .order_by(table.applied_at, table.id)
    )
    with transaction(sessions) as session:
        return {(sku, code): float(price) for sku, code, price in session.execute(query)}

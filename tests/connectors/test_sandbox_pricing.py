"""Sandbox POS and web-shop pricing: once per key, all or nothing, revertible."""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session, sessionmaker

from promoflow.catalog.models import Item, Location
from promoflow.connectors.ports import ConnectorError, PriceChange, PricePublisher
from promoflow.connectors.sandbox.client import requests
from promoflow.connectors.sandbox.faults import set_faults
from promoflow.connectors.sandbox.pricing import (
    SandboxPricePublisher,
    active_prices,
    applied_price_counts,
)

pytestmark = pytest.mark.postgres

START, END = date(2026, 12, 7), date(2026, 12, 20)


def _changes(
    sessions: sessionmaker[Session], count: int, channel: str = "pos"
) -> list[PriceChange]:
    kind = "store" if channel == "pos" else "ecommerce"
    with sessions() as session:
        items = session.execute(
            sa.select(Item.sku, Item.regular_price).where(~Item.restricted).limit(count)
        ).all()
        store = session.scalars(sa.select(Location.code).where(Location.kind == kind)).first()
    assert store is not None
    return [
        PriceChange(
            sku,
            store,
            channel,
            (price * Decimal("0.8")).quantize(Decimal("0.01")),
            price,
            START,
            END,
        )
        for sku, price in items
    ]


def _applied_since(
    sessions: sessionmaker[Session], before: dict[tuple[str, str], int], changes: list[PriceChange]
) -> list[int]:
    """How many more times each change's price was applied than in `before`."""
    after = applied_price_counts(sessions, "sandbox-pos")
    return [
        after[(c.sku, c.location_code)] - before.get((c.sku, c.location_code), 0) for c in changes
    ]


def _key() -> str:
    return f"PROMO-{uuid.uuid4().hex[:8]}-r1-pos/part-0000"


def test_a_key_applies_once_and_repeats_get_the_first_receipt(
    retailer: sessionmaker[Session],
) -> None:
    pos = SandboxPricePublisher(retailer, "pos")
    assert isinstance(pos, PricePublisher)
    key, changes = _key(), _changes(retailer, 3)
    before = applied_price_counts(retailer, "sandbox-pos")
    first = pos.publish_prices(key, changes)
    again = pos.publish_prices(key, changes)
    assert (first.accepted, first.duplicate) == (3, False)
    assert (again.accepted, again.duplicate, again.external_ref) == (3, True, first.external_ref)
    assert _applied_since(retailer, before, changes) == [1, 1, 1]
    outcomes = [r["outcome"] for r in requests(retailer, "sandbox-pos") if r["key"] == key]
    assert outcomes == ["applied", "duplicate"]


def test_a_refused_change_applies_nothing_of_the_call(retailer: sessionmaker[Session]) -> None:
    pos = SandboxPricePublisher(retailer, "pos")
    key, changes = _key(), _changes(retailer, 4)
    bad = PriceChange(
        "SKU-99999", changes[0].location_code, "pos", Decimal(1), Decimal(2), START, END
    )
    before = applied_price_counts(retailer, "sandbox-pos")
    with pytest.raises(ConnectorError, match="SKU-99999") as refused:
        pos.publish_prices(key, [*changes, bad])
    assert refused.value.retryable is False
    assert applied_price_counts(retailer, "sandbox-pos") == before
    # Nothing was kept under the key, so the corrected call goes through whole.
    receipt = pos.publish_prices(key, changes)
    assert (receipt.accepted, receipt.duplicate) == (4, False)


def test_an_injected_failure_applies_nothing_and_the_retry_applies_once(
    retailer: sessionmaker[Session],
) -> None:
    pos = SandboxPricePublisher(retailer, "pos")
    key, changes = _key(), _changes(retailer, 2)
    before = applied_price_counts(retailer, "sandbox-pos")
    set_faults(retailer, "sandbox-pos", fail_next=1)
    with pytest.raises(ConnectorError) as failed:
        pos.publish_prices(key, changes)
    assert failed.value.retryable is True
    assert not any(
        r["outcome"] == "applied" for r in requests(retailer, "sandbox-pos") if r["key"] == key
    )
    assert pos.publish_prices(key, changes).duplicate is False
    assert _applied_since(retailer, before, changes) == [1, 1]


def test_a_price_for_another_channel_is_refused(retailer: sessionmaker[Session]) -> None:
    web = SandboxPricePublisher(retailer, "ecommerce")
    with pytest.raises(ConnectorError, match="channel='pos'"):
        web.publish_prices(_key(), _changes(retailer, 1, channel="pos"))


def test_revert_withdraws_the_prices_once(retailer: sessionmaker[Session]) -> None:
    web = SandboxPricePublisher(retailer, "ecommerce")
    key, changes = _key(), _changes(retailer, 2, channel="ecommerce")
    web.publish_prices(key, changes)
    live = active_prices(retailer, "sandbox-ecommerce", START)
    assert all((c.sku, c.location_code) in live for c in changes)
    withdrawn = web.revert_prices(key)
    assert (withdrawn.accepted, withdrawn.duplicate) == (2, False)
    assert web.revert_prices(key).duplicate is True
    live = active_prices(retailer, "sandbox-ecommerce", START)
    assert not any((c.sku, c.location_code) in live for c in changes)
    assert web.revert_prices(_key()).accepted == 0  # never published: nothing to withdraw


def test_pos_and_web_shop_are_separate_systems(retailer: sessionmaker[Session]) -> None:
    key = _key()
    SandboxPricePublisher(retailer, "pos").publish_prices(key, _changes(retailer, 1))
    assert not [r for r in requests(retailer, "sandbox-ecommerce") if r["key"] == key]
    with pytest.raises(ValueError, match="channel='signage'"):
        SandboxPricePublisher(retailer, "signage")

"""Publishing and withdrawing promotion prices on the SDK's commercetools backend."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from ct_backend_support import CommercetoolsStub, ConnectorFactory

from promoflow.connectors.ports import (
    ConnectorError,
    ConnectorUnavailable,
    MalformedPayload,
    PriceChange,
    PricePublisher,
)

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
UPDATES = r"^/unittest/products/[^/]+$"


def change(sku: str, store: str, price: str, start: int = 3, end: int = 9) -> PriceChange:
    return PriceChange(
        sku=sku,
        location_code=store,
        channel="ecommerce",
        price=Decimal(price),
        regular_price=Decimal("9.99"),
        start=date(2026, 3, start),
        end=date(2026, 3, end),
    )


CHANGES = [
    change("SKU-1", "S001", "3.99"),
    change("SKU-2", "S001", "6.49"),
    change("SKU-3", "WEB", "1.99"),
]


def promo_prices(
    backend: CommercetoolsStub, product: str, sku: str
) -> list[tuple[int, str | None]]:
    """(cents, channel id) of the dated prices on a variant."""
    return [
        (p.value.cent_amount, p.channel.id if p.channel else None)
        for p in backend.prices(product, sku)
        if p.valid_from is not None
    ]


def channel_id(backend: CommercetoolsStub, key: str) -> str:
    return next(
        c["id"] for c in backend.repository.channels.model.objects.values() if c["key"] == key
    )


def test_publish_adds_one_dated_channel_price_per_change_and_keeps_the_regular_price(
    ct_backend: CommercetoolsStub, ct_connector: ConnectorFactory
) -> None:
    connector = ct_connector()
    assert isinstance(connector, PricePublisher)

    receipt = connector.publish_prices("promo-7-rev-1-web", CHANGES)

    assert (receipt.accepted, receipt.duplicate, receipt.system) == (3, False, connector.system)
    assert promo_prices(ct_backend, "coffee", "SKU-1") == [(399, channel_id(ct_backend, "S001"))]
    assert promo_prices(ct_backend, "coffee", "SKU-2") == [(649, channel_id(ct_backend, "S001"))]
    assert promo_prices(ct_backend, "tea", "SKU-3") == [(199, channel_id(ct_backend, "WEB"))]
    dated = next(p for p in ct_backend.prices("coffee", "SKU-1") if p.valid_from)
    # The promotion runs from the first day's start to the end of its last day, store time.
    assert dated.valid_from == datetime(2026, 3, 3, tzinfo=AMSTERDAM)
    assert dated.valid_until == datetime(2026, 3, 10, tzinfo=AMSTERDAM)
    regular = [
        p.value.cent_amount for p in ct_backend.prices("coffee", "SKU-1") if not p.valid_from
    ]
    assert regular == [499]


def test_a_repeated_key_returns_the_first_receipt_and_writes_nothing(
    ct_backend: CommercetoolsStub, ct_connector: ConnectorFactory
) -> None:
    first = ct_connector().publish_prices("promo-7-rev-1-web", CHANGES)
    updates = ct_backend.count("POST", UPDATES)

    # A new instance: the process that got the first receipt crashed before its checkpoint.
    again = ct_connector().publish_prices("promo-7-rev-1-web", CHANGES)

    assert again.duplicate is True
    assert (again.key, again.accepted, again.external_ref) == (
        first.key,
        first.accepted,
        first.external_ref,
    )
    assert ct_backend.count("POST", UPDATES) == updates
    assert len(promo_prices(ct_backend, "coffee", "SKU-1")) == 1


def test_a_publication_cut_off_half_way_is_finished_without_doubling_a_price(
    ct_backend: CommercetoolsStub, ct_connector: ConnectorFactory
) -> None:
    # The first product is updated, then every write to the second fails until retries run out.
    tea = ct_backend.product("tea").id
    ct_backend.fail("POST", f"^/unittest/products/{tea}$", 503, times=2)
    with pytest.raises(ConnectorUnavailable):
        ct_connector(attempts=2).publish_prices("promo-8-rev-1-web", CHANGES)
    assert promo_prices(ct_backend, "coffee", "SKU-1") == [(399, channel_id(ct_backend, "S001"))]
    assert promo_prices(ct_backend, "tea", "SKU-3") == []

    receipt = ct_connector().publish_prices("promo-8-rev-1-web", CHANGES)

    assert (receipt.accepted, receipt.duplicate) == (3, False)
    assert len(promo_prices(ct_backend, "coffee", "SKU-1")) == 1
    assert len(promo_prices(ct_backend, "coffee", "SKU-2")) == 1
    assert promo_prices(ct_backend, "tea", "SKU-3") == [(199, channel_id(ct_backend, "WEB"))]


def test_throttling_and_a_brief_outage_are_retried(
    ct_backend: CommercetoolsStub, ct_connector: ConnectorFactory
) -> None:
    ct_backend.fail("GET", r"^/unittest/channels$", 429)
    ct_backend.fail("POST", UPDATES, 503)

    receipt = ct_connector().publish_prices("promo-9-rev-1-web", CHANGES)

    assert receipt.accepted == 3
    assert ct_backend.count("GET", r"^/unittest/channels$") == 2
    assert len(promo_prices(ct_backend, "tea", "SKU-3")) == 1


def test_a_throttled_journal_lookup_is_not_read_as_a_new_key(
    ct_backend: CommercetoolsStub, ct_connector: ConnectorFactory
) -> None:
    # The SDK alone returns None for a 429, the same as for "no such key".
    ct_connector().publish_prices("promo-10-rev-1-web", CHANGES)
    ct_backend.fail("GET", r"^/unittest/custom-objects/", 429, times=5)

    with pytest.raises(ConnectorError) as raised:
        ct_connector(attempts=2).publish_prices("promo-10-rev-1-web", CHANGES)

    assert raised.value.retryable
    assert "429" in raised.value.message
    assert len(promo_prices(ct_backend, "coffee", "SKU-1")) == 1


def test_revert_removes_only_what_the_key_published(
    ct_backend: CommercetoolsStub, ct_connector: ConnectorFactory
) -> None:
    connector = ct_connector()
    connector.publish_prices("promo-11-rev-1-web", CHANGES[:2])
    connector.publish_prices("promo-12-rev-1-web", [change("SKU-1", "S002", "4.25")])

    receipt = connector.revert_prices("promo-11-rev-1-web")
    again = connector.revert_prices("promo-11-rev-1-web")

    assert (receipt.accepted, receipt.duplicate) == (2, False)
    assert (again.accepted, again.duplicate) == (2, True)
    assert promo_prices(ct_backend, "coffee", "SKU-1") == [(425, channel_id(ct_backend, "S002"))]
    assert promo_prices(ct_backend, "coffee", "SKU-2") == []
    assert [p.value.cent_amount for p in ct_backend.prices("coffee", "SKU-2")] == [899]
    # After a revert the key stays spent: publishing it again returns its first receipt.
    assert connector.publish_prices("promo-11-rev-1-web", CHANGES[:2]).duplicate is True
    assert promo_prices(ct_backend, "coffee", "SKU-2") == []


def test_revert_of_a_key_that_published_nothing_changes_nothing(
    ct_backend: CommercetoolsStub, ct_connector: ConnectorFactory
) -> None:
    receipt = ct_connector().revert_prices("never-published")

    assert receipt.accepted == 0
    assert ct_backend.count("POST", UPDATES) == 0


@pytest.mark.parametrize(
    ("bad", "field", "value"),
    [
        (change("SKU-2", "S001", "6.499"), "changes[1].price", Decimal("6.499")),
        (change("SKU-2", "S001", "-1.00"), "changes[1].price", Decimal("-1.00")),
        (change("SKU-2", "S001", "6.49", start=9, end=3), "changes[1].end", date(2026, 3, 3)),
        (change("SKU-1", "S001", "3.49"), "changes[1].price", Decimal("3.49")),
    ],
    ids=["three-decimals", "negative", "ends-before-start", "two-prices-one-scope"],
)
def test_a_bad_change_refuses_the_whole_key_naming_field_and_value(
    ct_backend: CommercetoolsStub,
    ct_connector: ConnectorFactory,
    bad: PriceChange,
    field: str,
    value: object,
) -> None:
    with pytest.raises(MalformedPayload) as raised:
        ct_connector().publish_prices("promo-13-rev-1-web", [CHANGES[0], bad])

    assert (raised.value.field, raised.value.value) == (field, value)
    assert raised.value.payload == bad
    assert field in raised.value.message
    assert ct_backend.count("POST", r"^/unittest/(products|custom-objects)") == 0


def test_an_unknown_sku_or_store_publishes_nothing_and_names_it(
    ct_backend: CommercetoolsStub, ct_connector: ConnectorFactory
) -> None:
    connector = ct_connector()
    with pytest.raises(ConnectorError) as unknown_sku:
        connector.publish_prices("promo-14", [*CHANGES, change("SKU-404", "S001", "1.00")])
    with pytest.raises(ConnectorError) as unknown_store:
        connector.publish_prices("promo-15", [*CHANGES, change("SKU-1", "S999", "1.00")])

    assert "SKU-404" in unknown_sku.value.message
    assert "S999" in unknown_store.value.message
    assert not unknown_sku.value.retryable and not unknown_store.value.retryable
    assert ct_backend.count("POST", r"^/unittest/(products|custom-objects)") == 0


def test_a_scope_holding_another_price_refuses_the_key_before_any_write(
    ct_backend: CommercetoolsStub, ct_connector: ConnectorFactory
) -> None:
    connector = ct_connector()
    connector.publish_prices("promo-16", [change("SKU-3", "WEB", "2.49")])
    writes = ct_backend.count("POST", r"^/unittest/(products|custom-objects)")

    with pytest.raises(ConnectorError) as raised:
        connector.publish_prices("promo-17", CHANGES)

    assert "SKU-3" in raised.value.message and "249" in raised.value.message
    assert ct_backend.count("POST", r"^/unittest/(products|custom-objects)") == writes
    assert promo_prices(ct_backend, "coffee", "SKU-1") == []


def test_a_corrupt_journal_is_a_malformed_payload_naming_the_field(
    ct_backend: CommercetoolsStub, ct_connector: ConnectorFactory
) -> None:
    connector = ct_connector()
    receipt = connector.publish_prices("promo-18", CHANGES[:1])
    stored = next(iter(ct_backend.repository.custom_objects.model.objects.values()))
    stored["value"]["prices"][0]["centAmount"] = "lots"

    with pytest.raises(MalformedPayload) as raised:
        connector.revert_prices("promo-18")

    assert raised.value.field == "value.prices[0]"
    assert receipt.external_ref.endswith(stored["key"])

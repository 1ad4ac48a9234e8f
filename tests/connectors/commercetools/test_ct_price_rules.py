"""commercetools' pricing rules: price modes, 100 embedded prices per variant, expiry.

Shapes and rules from the commercetools HTTP API reference (see ct_pricing_backend).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime

import pytest
from commercetools.platform import models
from ct_backend_support import CommercetoolsStub, ConnectorFactory, seed_product, seed_stores
from test_ct_publish import CHANGES, change

from promoflow.connectors.ports import ConnectorError, PriceChange

WRITES = r"^/unittest/(products|custom-objects|standalone-prices)"
DURING = datetime(2026, 3, 5, 12, tzinfo=UTC)


def dated(backend: CommercetoolsStub, product: str, sku: str) -> list[models.Price]:
    return [p for p in backend.prices(product, sku) if p.valid_from is not None]


def chain_wide(
    sku: str, stores: list[str], price: str, start: int, end: int, month: int = 3
) -> list[PriceChange]:
    return [
        replace(
            change(sku, store, price), start=date(2026, month, start), end=date(2026, month, end)
        )
        for store in stores
    ]


def test_a_standalone_product_gets_standalone_prices_the_shop_shows(
    ct_backend: CommercetoolsStub, ct_connector: ConnectorFactory
) -> None:
    ct_backend.set_price_mode("tea", "Standalone")
    connector = ct_connector()

    receipt = connector.publish_prices("promo-20", CHANGES)

    assert receipt.accepted == 3
    assert ct_backend.shop_price("SKU-3", "WEB", DURING) == 199
    assert ct_backend.shop_price("SKU-1", "S001", DURING) == 399
    assert dated(ct_backend, "tea", "SKU-3") == []
    [standalone] = ct_backend.standalone_prices("SKU-3")
    assert (standalone.value.cent_amount, standalone.channel.id) == (  # type: ignore[union-attr]
        199,
        ct_backend.channel_id("WEB"),
    )
    assert standalone.key is not None and standalone.key.startswith("pf-")

    assert connector.revert_prices("promo-20").accepted == 3
    assert ct_backend.standalone_prices("SKU-3") == []
    assert dated(ct_backend, "coffee", "SKU-1") == []


def test_a_standalone_publication_cut_off_is_finished_without_a_second_price(
    ct_backend: CommercetoolsStub, ct_connector: ConnectorFactory
) -> None:
    ct_backend.set_price_mode("tea", "Standalone")
    ct_backend.fail("POST", r"^/unittest/standalone-prices$", 503, times=2)
    with pytest.raises(ConnectorError):
        ct_connector(attempts=2).publish_prices("promo-21", CHANGES)

    receipt = ct_connector().publish_prices("promo-21", CHANGES)

    assert (receipt.accepted, receipt.duplicate) == (3, False)
    assert len(ct_backend.standalone_prices("SKU-3")) == 1
    assert len(dated(ct_backend, "coffee", "SKU-1")) == 1


def test_an_overlapping_standalone_price_refuses_the_key_before_any_write(
    ct_backend: CommercetoolsStub, ct_connector: ConnectorFactory
) -> None:
    ct_backend.set_price_mode("tea", "Standalone")
    ct_connector().publish_prices("promo-22", [change("SKU-3", "WEB", "2.49", 1, 5)])
    writes = ct_backend.count("POST", WRITES)

    with pytest.raises(ConnectorError) as raised:
        ct_connector().publish_prices("promo-23", CHANGES)

    assert "SKU-3" in raised.value.message and "249" in raised.value.message
    assert not raised.value.retryable
    assert ct_backend.count("POST", WRITES) == writes
    assert dated(ct_backend, "coffee", "SKU-1") == []


def test_a_variant_that_would_pass_100_prices_is_refused_naming_it_before_any_write(
    ct_backend: CommercetoolsStub, ct_connector: ConnectorFactory
) -> None:
    stores = seed_stores(ct_backend.repository, 100)
    # Coffee's SKU-1 fits; tea's SKU-3 (1 regular + 100 stores) does not.
    changes = [change("SKU-1", "S001", "3.99"), *chain_wide("SKU-3", stores, "1.99", 3, 9)]

    with pytest.raises(ConnectorError) as raised:
        ct_connector().publish_prices("promo-24", changes)

    message = raised.value.message
    assert "tea" in message and "SKU-3" in message and "101" in message and "100" in message
    assert not raised.value.retryable
    assert ct_backend.count("POST", WRITES) == 0
    assert dated(ct_backend, "coffee", "SKU-1") == []


def test_our_expired_prices_make_room_and_no_one_elses_are_touched(
    ct_backend: CommercetoolsStub, ct_connector: ConnectorFactory
) -> None:
    stores = seed_stores(ct_backend.repository, 60)
    ct_connector().publish_prices("promo-25", chain_wide("SKU-3", stores, "1.99", 3, 9))
    # A price someone else set for the same days, without our key: never ours to remove.
    ct_connector().publish_prices("promo-other", [change("SKU-3", "WEB", "2.19", 3, 9)])
    tea = ct_backend.repository.products.model.get_by_key("tea")
    for price in tea["masterData"]["current"]["masterVariant"]["prices"]:
        if price.get("channel", {}).get("id") == ct_backend.channel_id("WEB"):
            price.pop("key")
    april = datetime(2026, 4, 1, tzinfo=UTC)

    # 1 regular + 60 + 1 foreign + 60 new would be 122: it fits once March's are gone.
    receipt = ct_connector(now=april).publish_prices(
        "promo-26", chain_wide("SKU-3", stores, "1.79", 10, 16, month=4)
    )

    assert receipt.accepted == 60
    remaining = sorted(
        (p.valid_from.day, p.value.cent_amount)  # type: ignore[union-attr]
        for p in dated(ct_backend, "tea", "SKU-3")
    )
    assert remaining == [(3, 219), *[(10, 179)] * 60]  # March's foreign price stays
    assert len(ct_backend.prices("tea", "SKU-3")) == 62
    assert ct_backend.shop_price("SKU-3", "C007", datetime(2026, 4, 12, tzinfo=UTC)) == 179


def test_a_chain_publication_failing_at_the_nth_product_is_completed_by_its_retry(
    ct_backend: CommercetoolsStub, ct_connector: ConnectorFactory
) -> None:
    for number in range(1, 6):
        seed_product(ct_backend.repository, f"snack-{number}", f"SNACK-{number}", 250)
    changes = [
        change(f"SNACK-{number}", store, "1.99")
        for number in range(1, 6)
        for store in ("S001", "S002")
    ]
    third = ct_backend.product("snack-3").id
    ct_backend.fail("POST", f"^/unittest/products/{third}$", 503, times=2)

    with pytest.raises(ConnectorError) as raised:
        ct_connector(attempts=2).publish_prices("promo-27", changes)

    assert raised.value.retryable
    # Resumable, not all-or-nothing: products 1 and 2 keep their (correct) prices.
    assert [len(dated(ct_backend, f"snack-{n}", f"SNACK-{n}")) for n in range(1, 6)] == [
        2,
        2,
        0,
        0,
        0,
    ]

    receipt = ct_connector().publish_prices("promo-27", changes)

    assert (receipt.accepted, receipt.duplicate) == (10, False)
    for number in range(1, 6):
        prices = dated(ct_backend, f"snack-{number}", f"SNACK-{number}")
        assert sorted(p.value.cent_amount for p in prices) == [199, 199]
        assert ct_backend.shop_price(f"SNACK-{number}", "S002", DURING) == 199


def test_a_refusal_at_the_nth_product_changes_none_of_the_products_before_it(
    ct_backend: CommercetoolsStub, ct_connector: ConnectorFactory
) -> None:
    for number in range(1, 6):
        seed_product(ct_backend.repository, f"snack-{number}", f"SNACK-{number}", 250)
    stores = seed_stores(ct_backend.repository, 100)
    # The first four fit; the fifth, sent last, would hold 1 regular + 100 store prices.
    changes = [
        *[change(f"SNACK-{n}", "S001", "1.99") for n in range(1, 5)],
        *[change("SNACK-5", store, "1.99") for store in stores],
    ]

    with pytest.raises(ConnectorError) as raised:
        ct_connector().publish_prices("promo-29", changes)

    assert "snack-5" in raised.value.message and "SNACK-5" in raised.value.message
    assert ct_backend.count("POST", WRITES) == 0
    assert [len(dated(ct_backend, f"snack-{n}", f"SNACK-{n}")) for n in range(1, 6)] == [0] * 5
    assert ct_backend.shop_price("SNACK-1", "S001", DURING) == 250


def test_a_chain_wide_price_is_one_price_without_a_channel_the_whole_chain_shows(
    ct_backend: CommercetoolsStub, ct_connector: ConnectorFactory
) -> None:
    # Every ProductDistribution channel of the project: S001, S002, WEB and 100 more.
    stores = ["S001", "S002", "WEB", *seed_stores(ct_backend.repository, 100)]
    connector = ct_connector()

    receipt = connector.publish_prices("promo-30", chain_wide("SKU-3", stores, "1.99", 3, 9))

    assert receipt.accepted == 103
    [promo] = dated(ct_backend, "tea", "SKU-3")
    assert (promo.value.cent_amount, promo.channel) == (199, None)
    assert {ct_backend.shop_price("SKU-3", store, DURING) for store in stores} == {199}
    after = datetime(2026, 3, 10, 12, tzinfo=UTC)
    assert ct_backend.shop_price("SKU-3", "C042", after) == 299

    assert connector.revert_prices("promo-30").accepted == 103
    assert dated(ct_backend, "tea", "SKU-3") == []


def test_a_store_with_its_own_price_keeps_one_price_per_store(
    ct_backend: CommercetoolsStub, ct_connector: ConnectorFactory
) -> None:
    # S002 sells tea at its own regular price: a channel-less promotion price would lose
    # to it there, so each store gets its own promotion price.
    connector = ct_connector()
    tea = ct_backend.product("tea")
    regular = models.ProductAddPriceAction(
        sku="SKU-3",
        price=models.PriceDraft(
            value=models.Money(cent_amount=279, currency_code="EUR"),
            channel=models.ChannelResourceIdentifier(id=ct_backend.channel_id("S002")),
        ),
        staged=False,
    )
    connector.client.update_product("seed", tea.id, lambda _product: [regular])

    receipt = connector.publish_prices(
        "promo-31", chain_wide("SKU-3", ["S001", "S002", "WEB"], "1.99", 3, 9)
    )

    assert receipt.accepted == 3
    channels = {p.channel.id for p in dated(ct_backend, "tea", "SKU-3") if p.channel}
    assert channels == {ct_backend.channel_id(s) for s in ("S001", "S002", "WEB")}
    assert {ct_backend.shop_price("SKU-3", s, DURING) for s in ("S001", "S002", "WEB")} == {199}


def test_a_promotion_for_some_stores_only_is_never_given_to_the_others(
    ct_backend: CommercetoolsStub, ct_connector: ConnectorFactory
) -> None:
    ct_connector().publish_prices("promo-32", chain_wide("SKU-3", ["S001", "S002"], "1.99", 3, 9))

    assert len(dated(ct_backend, "tea", "SKU-3")) == 2
    assert ct_backend.shop_price("SKU-3", "S002", DURING) == 199
    assert ct_backend.shop_price("SKU-3", "WEB", DURING) == 299


def test_our_expired_standalone_prices_are_deleted_and_no_one_elses(
    ct_backend: CommercetoolsStub, ct_connector: ConnectorFactory
) -> None:
    ct_backend.set_price_mode("tea", "Standalone")
    ct_connector().publish_prices("promo-33", [change("SKU-3", "WEB", "1.99", 3, 9)])
    foreign = models.StandalonePriceDraft(
        key="spring-sale",
        sku="SKU-3",
        value=models.Money(cent_amount=259, currency_code="EUR"),
        channel=models.ChannelResourceIdentifier(id=ct_backend.channel_id("S001")),
        valid_from=datetime(2026, 3, 1, tzinfo=UTC),
        valid_until=datetime(2026, 3, 20, tzinfo=UTC),
    )
    ct_backend.standalone.model.add(foreign)

    ct_connector(now=datetime(2026, 4, 1, tzinfo=UTC)).publish_prices(
        "promo-34", chain_wide("SKU-3", ["WEB"], "1.79", 10, 16, month=4)
    )

    held = sorted((p.key or "", p.value.cent_amount) for p in ct_backend.standalone_prices("SKU-3"))
    assert [amount for _, amount in held] == [179, 259]
    assert ("spring-sale", 259) in held

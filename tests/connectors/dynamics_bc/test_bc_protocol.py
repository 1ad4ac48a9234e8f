"""The Business Central connector against the protocol-faithful fake, over real HTTP."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import UTC, date, datetime
from typing import Any

import pytest
from bc_fake import (
    CLIENT_ID,
    CLIENT_SECRET,
    COMPANY_ID,
    ENVIRONMENT,
    TENANT,
    BusinessCentralFake,
)
from bc_support import SECRET_ENV, connector, seeded_fake
from local_server import serve
from structlog.testing import capture_logs

from promoflow.connectors.ports import (
    ConnectorError,
    ItemMaster,
    ItemStream,
    MalformedPayload,
    PositionStream,
    PurchaseOrderRequest,
    PurchaseOrderSystem,
)
from promoflow.connectors.resilience import reset_breakers


@pytest.fixture(autouse=True)
def _secret(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv(SECRET_ENV, CLIENT_SECRET)
    reset_breakers()
    yield
    reset_breakers()


@pytest.fixture
def fake() -> BusinessCentralFake:
    return seeded_fake()


@pytest.fixture
def base_url(fake: BusinessCentralFake) -> Iterator[str]:
    with serve(fake.app()) as url:
        yield url


def requests_to(fake: BusinessCentralFake, fragment: str) -> list[Any]:
    return [r for r in fake.requests if r.url.path.endswith(fragment)]


def test_implements_the_ports_it_declares(base_url: str) -> None:
    bc = connector(base_url, "bc-ports")
    for port in (ItemMaster, ItemStream, PositionStream, PurchaseOrderSystem):
        assert isinstance(bc, port)
    assert bc.system == "bc-ports"


def test_connection_check_reaches_the_company(base_url: str) -> None:
    check = connector(base_url, "bc-check").check_connection()
    assert check.ok, check.detail
    assert "CRONUS USA, Inc." in check.detail


def test_connection_check_fails_on_a_wrong_secret_without_showing_it(
    base_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(SECRET_ENV, "not-the-secret-123")
    check = connector(base_url, "bc-check-bad").check_connection()
    assert not check.ok
    assert "invalid_client" in check.detail and CLIENT_ID in check.detail
    assert "not-the-secret-123" not in check.detail


def test_connection_check_fails_when_nothing_listens() -> None:
    check = connector("http://127.0.0.1:9", "bc-check-down").check_connection()
    assert not check.ok
    assert "token" in check.detail or "connect" in check.detail.lower()


def test_items_stream_page_by_page_in_number_order() -> None:
    fake = seeded_fake(extra_items=23)
    with serve(fake.app()) as url:
        pages = list(connector(url, "bc-paging", page_size=10).stream_items(None))
    assert [len(page) for page in pages] == [10, 10, 8]
    numbers = [item.sku for page in pages for item in page]
    assert numbers == sorted(i["number"] for i in fake.items)
    first, *following = requests_to(fake, "/items")
    assert first.headers["prefer"] == "odata.maxpagesize=10"
    assert first.query_params["$orderby"] == "number"
    assert all("$skiptoken" in r.query_params for r in following)


def test_changed_items_filters_on_last_modified(fake: BusinessCentralFake, base_url: str) -> None:
    since = datetime(2025, 11, 1, tzinfo=UTC)
    changed = connector(base_url, "bc-since").changed_items(since)
    assert [c["sku"] for c in changed] == ["1906-S", "1908-S", "1920-S"]
    blocked = next(c for c in changed if c["sku"] == "1908-S")
    assert blocked["status"] == "inactive" and blocked["regular_price"] == "190.1"
    query = requests_to(fake, "/items")[0].query_params
    assert query["$filter"] == "lastModifiedDateTime gt 2025-11-01T00:00:00.000000Z"
    assert "unitCost" in query["$select"]


def test_positions_are_ledger_sums_per_item_and_location(base_url: str) -> None:
    bc = connector(base_url, "bc-positions")
    positions = bc.fetch_positions(["1896-S", "1900-S", "1906-S"], ["BLUE", "RED", "STORE-01"])
    on_hand = {(p.sku, p.location_code): p.on_hand for p in positions}
    assert on_hand[("1896-S", "BLUE")] == 6 and on_hand[("1896-S", "RED")] == 6
    assert on_hand[("1900-S", "BLUE")] == 27 and on_hand[("1900-S", "STORE-01")] == 2.5
    assert on_hand[("1906-S", "BLUE")] == 0
    assert len(positions) == 9


def test_position_stream_for_some_locations(fake: BusinessCentralFake, base_url: str) -> None:
    pages = list(connector(base_url, "bc-stream", page_size=2).stream_positions(["BLUE"]))
    flat = [(p.sku, p.location_code, p.on_hand) for page in pages for p in page]
    assert flat == [("1896-S", "BLUE", 6.0), ("1900-S", "BLUE", 27.0)]
    ledger_filters = [r.query_params["$filter"] for r in requests_to(fake, "/itemLedgerEntries")]
    assert all("locationCode eq 'BLUE'" in f for f in ledger_filters)


def order(number: str = "PO-PF-0001", destination: str = "BLUE") -> PurchaseOrderRequest:
    return PurchaseOrderRequest(
        number=number,
        supplier_code="20000",
        destination_code=destination,
        due=date(2026, 12, 4),
        lines=(("1896-S", 12.0), ("1900-S", 30.0)),
    )


def test_purchase_order_is_created_with_its_lines_once(
    fake: BusinessCentralFake, base_url: str
) -> None:
    bc = connector(base_url, "bc-po")
    assert bc.submit_purchase_order("key-1", order()) == "PO-PF-0001"
    assert bc.submit_purchase_order("key-1", order()) == "PO-PF-0001"
    assert len(fake.purchase_orders) == 1
    created = fake.purchase_orders[0]
    lines = [(line["lineObjectNumber"], line["quantity"]) for line in created["purchaseOrderLines"]]
    assert lines == [("1896-S", 12.0), ("1900-S", 30.0)]
    blue = next(loc["id"] for loc in fake.locations if loc["code"] == "BLUE")
    assert {line["locationId"] for line in created["purchaseOrderLines"]} == {blue}
    assert len([r for r in requests_to(fake, "/purchaseOrders") if r.method == "POST"]) == 1


def test_purchase_order_to_an_unknown_location_is_refused_before_sending(
    fake: BusinessCentralFake, base_url: str
) -> None:
    with pytest.raises(ConnectorError) as refused:
        connector(base_url, "bc-po-loc").submit_purchase_order("k", order(destination="NOWHERE"))
    assert not refused.value.retryable and "NOWHERE" in refused.value.message
    assert fake.purchase_orders == []


def test_purchase_order_the_erp_refuses_is_not_retried(
    fake: BusinessCentralFake, base_url: str
) -> None:
    bad = PurchaseOrderRequest("PO-PF-0002", "99999", "BLUE", date(2026, 12, 4), (("1896-S", 1.0),))
    with pytest.raises(ConnectorError) as refused:
        connector(base_url, "bc-po-vendor").submit_purchase_order("k", bad)
    assert not refused.value.retryable
    # The OData V4 error body is read into code and message, not quoted as raw JSON.
    assert refused.value.message.startswith(
        "submit_purchase_order: HTTP 400 from "
        f"/v2.0/{TENANT}/{ENVIRONMENT}/api/v2.0/companies({COMPANY_ID})/purchaseOrders: "
        "Internal_RecordNotFound: The Vendor does not exist."
    )
    assert "99999" in refused.value.message and '{"error"' not in refused.value.message
    assert len([r for r in requests_to(fake, "/purchaseOrders") if r.method == "POST"]) == 1


def test_acknowledgements_come_when_the_order_is_released(
    fake: BusinessCentralFake, base_url: str
) -> None:
    bc = connector(base_url, "bc-acks")
    bc.submit_purchase_order("k", order())
    assert bc.acknowledgements(["PO-PF-0001", "PO-UNKNOWN"]) == []
    fake.purchase_orders[0]["status"] = "Open"
    (ack,) = bc.acknowledgements(["PO-PF-0001", "PO-UNKNOWN"])
    assert ack.number == "PO-PF-0001" and ack.status == "acknowledged"
    assert ack.confirmed == (("1896-S", 12.0), ("1900-S", 30.0))
    query = requests_to(fake, "/purchaseOrders")[-1].query_params
    assert query["$expand"].startswith("purchaseOrderLines(")


def test_an_unreleased_purchase_order_is_deleted_and_a_released_one_stays(
    fake: BusinessCentralFake, base_url: str
) -> None:
    bc = connector(base_url, "bc-cancel")
    bc.submit_purchase_order("k1", order())
    bc.submit_purchase_order("k2", order("PO-PF-0009"))
    fake.purchase_orders[1]["status"] = "Open"  # released to the vendor
    first = bc.cancel_purchase_order("c1", "PO-PF-0001")
    again = bc.cancel_purchase_order("c1", "PO-PF-0001")
    assert (first.outcome, again.outcome) == ("cancelled", "cancelled")
    assert again.detail == "no such order in the company"
    released = bc.cancel_purchase_order("c2", "PO-PF-0009")
    assert (released.outcome, released.detail) == ("confirmed", "released to the vendor")
    assert [po["number"] for po in fake.purchase_orders] == ["PO-PF-0009"]
    deletes = [r for r in fake.requests if r.method == "DELETE"]
    assert len(deletes) == 1 and deletes[0].headers["if-match"] == "*"


@pytest.mark.parametrize("status", [429, 500, 502, 503])
def test_transient_failures_are_retried(
    fake: BusinessCentralFake, base_url: str, status: int
) -> None:
    fake.fail("/items", status, times=2)
    pages = list(connector(base_url, f"bc-retry-{status}").stream_items(None))
    assert sum(len(p) for p in pages) == 5
    assert len(requests_to(fake, "/items")) == 3


def test_a_client_error_is_not_retried(fake: BusinessCentralFake, base_url: str) -> None:
    fake.fail("/items", 400, times=5)
    with pytest.raises(ConnectorError) as failed:
        list(connector(base_url, "bc-400").stream_items(None))
    assert not failed.value.retryable and "HTTP 400" in failed.value.message
    assert len(requests_to(fake, "/items")) == 1


def test_the_token_is_cached_and_renewed_when_refused(
    fake: BusinessCentralFake, base_url: str
) -> None:
    bc = connector(base_url, "bc-token")
    bc.changed_items(None)
    bc.changed_items(None)
    assert fake.token_requests == 1
    fake.revoke_tokens()
    assert len(bc.changed_items(None)) == 5
    assert fake.token_requests == 2


def test_the_secret_never_shows_in_logs_repr_or_errors(
    base_url: str,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    caplog.set_level(logging.DEBUG)
    bc = connector(base_url, "bc-secret")
    with capture_logs() as events:
        bc.submit_purchase_order("k", order())
        monkeypatch.setenv(SECRET_ENV, "wrong-" + CLIENT_SECRET)
        bc.auth.invalidate()
        with pytest.raises(ConnectorError) as refused:
            bc.changed_items(None)
    shown = " ".join(
        [
            repr(bc),
            repr(bc.auth),
            repr(bc.client),
            str(refused.value),
            repr(refused.value),
            caplog.text,
            str(events),
            *capsys.readouterr(),
        ]
    )
    assert CLIENT_SECRET not in shown
    assert "env:" + SECRET_ENV in repr(bc)


def _drop_number(body: dict[str, Any]) -> dict[str, Any]:
    del body["value"][1]["number"]
    return body


def _text_price(body: dict[str, Any]) -> dict[str, Any]:
    body["value"][0]["unitPrice"] = "twelve"
    return body


def _partial(body: dict[str, Any]) -> dict[str, Any]:
    body["value"] = []
    service_root = body["@odata.context"].partition("/$metadata")[0]
    body["@odata.nextLink"] = f"{service_root}/companies(x)/items?$skiptoken=5"
    return body


@pytest.mark.parametrize(
    ("mangle", "field", "value"),
    [(_drop_number, "number", None), (_text_price, "unitPrice", "twelve"), (_partial, "value", [])],
)
def test_malformed_item_pages_are_refused_whole(
    fake: BusinessCentralFake, base_url: str, mangle: Any, field: str, value: Any
) -> None:
    fake.mangle("/items", mangle)
    with pytest.raises(MalformedPayload) as refused:
        list(connector(base_url, f"bc-bad-{field}").stream_items(None))
    assert refused.value.field == field and refused.value.value == value
    assert refused.value.payload is not None and not refused.value.retryable
    assert len(requests_to(fake, "/items")) == 1


def test_a_next_link_to_another_host_is_refused(fake: BusinessCentralFake, base_url: str) -> None:
    def elsewhere(body: dict[str, Any]) -> dict[str, Any]:
        body["@odata.nextLink"] = "https://evil.example/steal?$skiptoken=1"
        return body

    fake.mangle("/items", elsewhere)
    with pytest.raises(MalformedPayload) as refused:
        list(connector(base_url, "bc-bad-link").stream_items(None))
    assert refused.value.field == "@odata.nextLink"


def test_a_non_numeric_ledger_quantity_names_the_entry(
    fake: BusinessCentralFake, base_url: str
) -> None:
    fake.ledger[1]["quantity"] = "four"
    with pytest.raises(MalformedPayload) as refused:
        connector(base_url, "bc-bad-qty").fetch_positions(["1896-S"], ["BLUE"])
    assert (refused.value.field, refused.value.value) == ("quantity", "four")
    assert refused.value.payload["entryNo"] == 2

"""The Odoo connector against the protocol-faithful fake over real HTTP, on both protocols."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import UTC, date, datetime
from typing import Any

import pytest
from local_server import serve
from odoo_fake import API_KEY, OdooFake
from odoo_support import SECRET_ENV, connector, seeded_fake
from structlog.testing import capture_logs

from promoflow.connectors.framework import connector_class
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
from promoflow.kit.errors import InvalidInput

PROTOCOLS = ["json2", "jsonrpc"]


@pytest.fixture(autouse=True)
def _secret(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv(SECRET_ENV, API_KEY)
    reset_breakers()
    yield
    reset_breakers()


@pytest.fixture
def fake() -> OdooFake:
    return seeded_fake()


@pytest.fixture
def base_url(fake: OdooFake) -> Iterator[str]:
    with serve(fake.app()) as url:
        yield url


@pytest.fixture(params=PROTOCOLS)
def protocol(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def test_the_entry_point_loads_the_connector_with_its_ports(base_url: str) -> None:
    assert connector_class("odoo").__name__ == "OdooConnector"
    odoo = connector(base_url, "odoo-ports")
    for port in (ItemMaster, ItemStream, PositionStream, PurchaseOrderSystem):
        assert isinstance(odoo, port)


def test_connection_check_on_each_protocol(fake: OdooFake, base_url: str, protocol: str) -> None:
    check = connector(base_url, f"odoo-check-{protocol}", protocol=protocol).check_connection()
    assert check.ok, check.detail
    assert f"Odoo 19.0 answers over {protocol}" in check.detail
    (call,) = fake.calls_to("product.product", "search_read")
    assert call.protocol == protocol and call.params["limit"] == 1


def test_json2_sends_the_bearer_key_and_the_database(fake: OdooFake, base_url: str) -> None:
    connector(base_url, "odoo-headers").changed_items(None)
    headers = fake.calls[0].headers
    assert headers["authorization"] == f"bearer {API_KEY}"
    assert headers["x-odoo-database"] == "retail-prod"
    assert headers["content-type"].startswith("application/json")


def test_items_page_by_offset_and_limit_in_id_order(protocol: str) -> None:
    fake = seeded_fake(extra_products=7)
    with serve(fake.app()) as url:
        pages = list(
            connector(url, f"odoo-paging-{protocol}", page_size=5, protocol=protocol).stream_items(
                None
            )
        )
    assert [len(p) for p in pages] == [5, 5, 1]
    assert [i.sku for i in pages[0][:4]] == ["FURN_7800", "FURN_6666", "E-COM11", "FURN_8888"]
    reads = fake.calls_to("product.product", "search_read")
    assert [(c.params["offset"], c.params["limit"], c.params["order"]) for c in reads] == [
        (0, 5, "id"),
        (5, 5, "id"),
        (10, 5, "id"),
    ]
    assert ["default_code", "!=", False] in reads[0].params["domain"]
    assert len(fake.calls_to("product.product", "search_count")) == 1


def test_changed_items_filter_on_write_date_of_variant_or_template(
    fake: OdooFake, base_url: str, protocol: str
) -> None:
    since = datetime(2025, 11, 1, 12, 0, tzinfo=UTC)
    changed = connector(base_url, f"odoo-since-{protocol}", protocol=protocol).changed_items(since)
    assert [(c["sku"], c["status"], c["regular_price"]) for c in changed] == [
        ("FURN_7800", "active", "450.0"),
        ("E-COM11", "inactive", "140.0"),
        ("FURN_8888", "active", "40.0"),
    ]
    domain = fake.calls_to("product.product", "search_read")[0].params["domain"]
    assert domain[-3:] == [
        "|",
        ["write_date", ">", "2025-11-01 12:00:00"],
        ["product_tmpl_id.write_date", ">", "2025-11-01 12:00:00"],
    ]


def test_positions_sum_quants_under_each_mapped_location(base_url: str, protocol: str) -> None:
    odoo = connector(base_url, f"odoo-positions-{protocol}", protocol=protocol)
    positions = odoo.fetch_positions(["FURN_7800", "FURN_6666", "NOPE"], ["DC01", "STORE01"])
    got = {(p.sku, p.location_code): (p.on_hand, p.allocated) for p in positions}
    assert got[("FURN_7800", "DC01")] == (15.0, 2.0)  # WH/Stock plus its shelf
    assert got[("FURN_7800", "STORE01")] == (3.0, 0.0)
    assert got[("FURN_6666", "DC01")] == (7.5, 0.0)  # the vendor location is not ours
    assert got[("FURN_6666", "STORE01")] == (0.0, 0.0)
    assert got[("NOPE", "DC01")] == (0.0, 0.0)
    assert len(positions) == 6


def test_position_stream_for_one_location(fake: OdooFake, base_url: str) -> None:
    pages = list(connector(base_url, "odoo-stream", page_size=2).stream_positions(["STORE01"]))
    flat = [(p.sku, p.location_code, p.on_hand, p.allocated) for page in pages for p in page]
    assert flat == [("FURN_7800", "STORE01", 3.0, 0.0), ("FURN_8888", "STORE01", 12.0, 4.0)]
    assert len(pages) == 2  # one page of products at a time
    quant_domains = [c.params["domain"] for c in fake.calls_to("stock.quant", "search_read")]
    assert all(d[1][0:2] == ["location_id", "in"] for d in quant_domains)


def test_an_unknown_mapped_location_is_named(fake: OdooFake, base_url: str) -> None:
    fake.orm.tables["stock.location"] = {
        k: v
        for k, v in fake.orm.tables["stock.location"].items()
        if v["complete_name"] != "SHOP1/Stock"
    }
    with pytest.raises(InvalidInput) as refused:
        connector(base_url, "odoo-badmap").fetch_positions(["FURN_7800"], ["STORE01"])
    assert "SHOP1/Stock" in str(refused.value) and "location_map" in str(refused.value)


def order(
    number: str = "PF-0001", destination: str = "STORE01", supplier: str = "V-WOOD"
) -> PurchaseOrderRequest:
    return PurchaseOrderRequest(
        number=number,
        supplier_code=supplier,
        destination_code=destination,
        due=date(2026, 12, 4),
        lines=(("FURN_7800", 48.0), ("FURN_8888", 2.0)),
    )


def test_purchase_order_is_created_once_per_number(
    fake: OdooFake, base_url: str, protocol: str
) -> None:
    odoo = connector(base_url, f"odoo-po-{protocol}", protocol=protocol)
    assert odoo.submit_purchase_order("k1", order()) == "P00001"
    assert odoo.submit_purchase_order("k1", order()) == "P00001"
    assert len(fake.calls_to("purchase.order", "create")) == 1
    (po,) = fake.orm.tables["purchase.order"].values()
    wood = next(p for p in fake.orm.tables["res.partner"].values() if p["ref"] == "V-WOOD")
    receipts = next(
        t for t in fake.orm.tables["stock.picking.type"].values() if t["name"] == "SHOP1: Receipts"
    )
    assert (po["origin"], po["state"], po["partner_id"]) == ("PF-0001", "draft", wood["id"])
    assert po["picking_type_id"] == receipts["id"]
    lines = [
        (
            fake.orm.tables["product.product"][line["product_id"]]["default_code"],
            line["product_qty"],
        )
        for line in fake.orm.tables["purchase.order.line"].values()
    ]
    assert lines == [("FURN_7800", 48.0), ("FURN_8888", 2.0)]
    create = fake.calls_to("purchase.order", "create")[0].params["vals_list"][0]
    assert [command[:2] for command in create["order_line"]] == [[0, 0], [0, 0]]


def test_a_create_whose_answer_was_lost_is_found_on_retry(fake: OdooFake, base_url: str) -> None:
    # the create commits, then the read of its name fails: the retry must look it up
    fake.fail("purchase.order.read", 502)
    odoo = connector(base_url, "odoo-po-lost")
    assert odoo.submit_purchase_order("k2", order("PF-0002")) == "P00001"
    assert len(fake.orm.tables["purchase.order"]) == 1
    assert len(fake.calls_to("purchase.order", "create")) == 1


def test_an_unknown_vendor_is_refused_by_name_and_not_retried(
    fake: OdooFake, base_url: str
) -> None:
    with pytest.raises(ConnectorError) as refused:
        connector(base_url, "odoo-po-vendor").submit_purchase_order("k", order(supplier="V-NONE"))
    assert not refused.value.retryable and "V-NONE" in refused.value.message
    assert len(fake.calls_to("res.partner", "search_read")) == 1
    assert fake.orm.tables["purchase.order"] == {}


def test_acknowledgements_follow_the_order_state(
    fake: OdooFake, base_url: str, protocol: str
) -> None:
    odoo = connector(base_url, f"odoo-acks-{protocol}", protocol=protocol)
    odoo.submit_purchase_order("a", order("PF-1"))
    odoo.submit_purchase_order("b", order("PF-2", destination="DC01"))
    assert odoo.acknowledgements(["PF-1", "PF-2", "PF-9"]) == []
    first, second = fake.orm.tables["purchase.order"].values()
    first.update(state="purchase", date_approve="2026-11-20 14:05:00")
    second["state"] = "cancel"
    acks = {a.number: a for a in odoo.acknowledgements(["PF-1", "PF-2", "PF-9"])}
    assert acks["PF-1"].status == "acknowledged"
    assert acks["PF-1"].confirmed == (("FURN_7800", 48.0), ("FURN_8888", 2.0))
    assert acks["PF-1"].acknowledged_at == datetime(2026, 11, 20, 14, 5, tzinfo=UTC)
    assert acks["PF-2"].status == "rejected" and set(acks) == {"PF-1", "PF-2"}


def test_an_rfq_is_cancelled_and_a_confirmed_order_stays(
    fake: OdooFake, base_url: str, protocol: str
) -> None:
    odoo = connector(base_url, f"odoo-cancel-{protocol}", protocol=protocol)
    odoo.submit_purchase_order("a", order("PF-1"))
    odoo.submit_purchase_order("b", order("PF-2", destination="DC01"))
    first, second = fake.orm.tables["purchase.order"].values()
    second.update(state="purchase", date_approve="2026-11-20 14:05:00")
    cancelled = odoo.cancel_purchase_order("c1", "PF-1")
    again = odoo.cancel_purchase_order("c1", "PF-1")
    kept = odoo.cancel_purchase_order("c2", "PF-2")
    assert (cancelled.outcome, again.outcome, kept.outcome) == (
        "cancelled",
        "cancelled",
        "confirmed",
    )
    assert again.detail == "nothing standing in Odoo" and kept.detail == "P00002 is purchase"
    assert (first["state"], second["state"]) == ("cancel", "purchase")
    (call,) = fake.calls_to("purchase.order", "button_cancel")
    assert call.ids == [first["id"]]
    assert {a.number: a.status for a in odoo.acknowledgements(["PF-1"])} == {"PF-1": "rejected"}


@pytest.mark.parametrize("status", [429, 500, 502, 503])
def test_transient_failures_are_retried(fake: OdooFake, base_url: str, status: int) -> None:
    fake.fail("product.product.search_read", status, times=2)
    assert len(connector(base_url, f"odoo-retry-{status}").changed_items(None)) == 4
    assert (
        len(fake.calls_to("product.product", "search_read")) == 1
    )  # the 2 failures never reached the ORM


def test_a_jsonrpc_concurrency_error_is_retried_and_a_user_error_is_not(
    fake: OdooFake, base_url: str
) -> None:
    odoo = connector(base_url, "odoo-rpc-errors", protocol="jsonrpc")
    fake.raise_odoo("product.product.search_read", "odoo.exceptions.ConcurrencyError", "busy")
    assert len(odoo.changed_items(None)) == 4
    fake.raise_odoo("product.product.search_read", "odoo.exceptions.AccessError", "no access", 5)
    with pytest.raises(ConnectorError) as refused:
        odoo.changed_items(None)
    assert not refused.value.retryable and "AccessError: no access" in refused.value.message


@pytest.mark.parametrize("protocol_name", PROTOCOLS)
def test_a_wrong_key_is_refused_once_without_showing_it(
    fake: OdooFake,
    base_url: str,
    protocol_name: str,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    wrong = "wrong-odoo-key-4567"
    monkeypatch.setenv(SECRET_ENV, wrong)
    caplog.set_level(logging.DEBUG)
    odoo = connector(base_url, f"odoo-auth-{protocol_name}", protocol=protocol_name)
    with capture_logs() as events:
        check = odoo.check_connection()
        with pytest.raises(ConnectorError) as refused:
            odoo.changed_items(None)
    assert not check.ok and "refused the credentials" in check.detail
    assert not refused.value.retryable
    shown = " ".join([check.detail, str(refused.value), repr(odoo), caplog.text, str(events)])
    assert wrong not in shown and API_KEY not in shown
    # one request for the check, one for the sync: an authentication failure is never retried
    expected = {
        "json2": ["product.product.search_read", "product.product.search_count"],
        "jsonrpc": ["common.version", "common.login", "common.login"],
    }
    assert fake.hits == expected[protocol_name]


def test_the_key_never_shows_in_repr_logs_or_errors(
    fake: OdooFake, base_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    odoo = connector(base_url, "odoo-secret", protocol="jsonrpc")
    fake.raise_odoo("product.product.search_read", "odoo.exceptions.UserError", f"bad {API_KEY}", 1)
    with capture_logs() as events, pytest.raises(ConnectorError) as refused:
        odoo.changed_items(None)
    shown = " ".join([repr(odoo), repr(odoo.client), str(refused.value), caplog.text, str(events)])
    assert API_KEY not in shown and "env:" + SECRET_ENV in repr(odoo)


def _drop_last(rows: Any) -> Any:
    return rows[:-1]


def _no_code(rows: Any) -> Any:
    rows[1]["default_code"] = False
    return rows


def _text_price(rows: Any) -> Any:
    rows[2]["list_price"] = "140,00"
    return rows


@pytest.mark.parametrize(
    ("mangle", "field", "value"),
    [
        (_drop_last, "rows", 3),
        (_no_code, "default_code", False),
        (_text_price, "list_price", "140,00"),
    ],
)
def test_malformed_product_pages_are_refused_whole(
    fake: OdooFake, base_url: str, mangle: Any, field: str, value: Any
) -> None:
    fake.mangle("product.product.search_read", mangle)
    with pytest.raises(MalformedPayload) as refused:
        list(connector(base_url, f"odoo-bad-{field}").stream_items(None))
    assert (refused.value.field, refused.value.value) == (field, value)
    assert refused.value.payload is not None
    assert len(fake.calls_to("product.product", "search_read")) == 1


def test_a_quant_with_a_non_numeric_quantity_names_it(fake: OdooFake, base_url: str) -> None:
    quant = next(iter(fake.orm.tables["stock.quant"].values()))
    quant["quantity"] = "ten"
    with pytest.raises(MalformedPayload) as refused:
        connector(base_url, "odoo-bad-qty").fetch_positions(["FURN_7800"], ["DC01"])
    assert (refused.value.field, refused.value.value) == ("quantity", "ten")

"""Failures against the SAP mock server: auth, CSRF expiry, retries, malformed and partial pages."""

from __future__ import annotations

import json
import logging
from datetime import date

import pytest
from sap_estate import STOCK
from sap_support import PASSWORD, PASSWORD_ENV, MockSap, connector

from promoflow.connectors.ports import (
    ConnectorError,
    MalformedPayload,
    PurchaseOrderRequest,
)

STOCK_READ = "A_MatlStkInAcctMod"


def _order(number: str) -> PurchaseOrderRequest:
    return PurchaseOrderRequest(number, "17300001", "DC01", date(2026, 3, 2), (("TG11", 5.0),))


def test_a_wrong_password_fails_once_without_showing_it(
    mock: MockSap, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    sap = connector(mock, "sap-auth", monkeypatch)
    monkeypatch.setenv(PASSWORD_ENV, "not-the-password")
    caplog.set_level(logging.DEBUG)
    with pytest.raises(ConnectorError) as caught:
        sap.fetch_positions(["TG11"], ["DC01"])
    assert not caught.value.retryable
    assert "401" in caught.value.message
    assert len(mock.requests()) == 1, "a refused logon is not retried"
    check = sap.check_connection()
    assert not check.ok and "401" in check.detail
    shown = " ".join([str(caught.value), check.detail, repr(sap), caplog.text])
    assert "not-the-password" not in shown
    assert PASSWORD not in shown
    assert f"env:{PASSWORD_ENV}" in repr(sap)


def test_connection_check_fails_when_nothing_listens(
    mock: MockSap, monkeypatch: pytest.MonkeyPatch
) -> None:
    sap = connector(mock, "sap-down", monkeypatch, base_url="http://127.0.0.1:9/sap/opu/odata/sap")
    check = sap.check_connection()
    assert not check.ok
    assert "check connection" in check.detail


def test_an_expired_csrf_token_is_fetched_again_once(
    mock: MockSap, monkeypatch: pytest.MonkeyPatch
) -> None:
    sap = connector(mock, "sap-csrf", monkeypatch)
    sap.submit_purchase_order("csrf-1", _order("PO-C1"))
    mock.control("expire-tokens")
    sap.submit_purchase_order("csrf-2", _order("PO-C2"))
    posts = [e for e in mock.requests() if e["method"] == "POST"]
    fetches = [e for e in mock.requests() if e["csrf"] == "Fetch"]
    assert len(posts) == 3, "the rejected POST is sent again once with the new token"
    assert len(fetches) == 2
    assert posts[1]["csrf"] != posts[2]["csrf"]


def test_a_token_the_server_never_accepts_fails_clearly(
    mock: MockSap, monkeypatch: pytest.MonkeyPatch
) -> None:
    sap = connector(mock, "sap-csrf-bad", monkeypatch)
    rejection = {
        "status": 403,
        "headers": {"x-csrf-token": "Required"},
        "body": "CSRF token validation failed",
        "method": "POST",
        "times": 5,
    }
    mock.faults({"match": "A_PurchaseOrder?", **rejection})
    with pytest.raises(ConnectorError) as caught:
        sap.submit_purchase_order("csrf-3", _order("PO-C3"))
    assert "403" in caught.value.message and "CSRF" in caught.value.message
    assert not caught.value.retryable
    assert len([e for e in mock.requests() if e["method"] == "POST"]) == 2


@pytest.mark.parametrize("status", [503, 429, 500])
def test_a_transient_error_is_retried(
    mock: MockSap, monkeypatch: pytest.MonkeyPatch, status: int
) -> None:
    sap = connector(mock, f"sap-retry-{status}", monkeypatch)
    calm = {(p.sku, p.location_code): p.on_hand for page in sap.stream_positions() for p in page}
    calm_reads = len(mock.requests())
    mock.control("reset")
    mock.faults({"match": STOCK_READ, "status": status, "times": 2})
    stormy = {(p.sku, p.location_code): p.on_hand for page in sap.stream_positions() for p in page}
    assert stormy == calm
    assert len(mock.requests()) == calm_reads + 2


def test_a_failed_batch_part_retries_the_batch(
    mock: MockSap, monkeypatch: pytest.MonkeyPatch
) -> None:
    sap = connector(mock, "sap-batch-retry", monkeypatch)
    mock.faults({"match": "$batch", "status": 502, "times": 1})
    assert sap.fetch_positions(["TG11"], ["DC01"])[0].on_hand > 0
    assert len([e for e in mock.requests() if "$batch" in e["url"]]) == 2


def test_a_client_error_is_not_retried(mock: MockSap, monkeypatch: pytest.MonkeyPatch) -> None:
    sap = connector(mock, "sap-400", monkeypatch)
    mock.faults({"match": "A_Product", "status": 400, "body": "Invalid filter", "times": 3})
    with pytest.raises(ConnectorError) as caught:
        sap.changed_items(None)
    assert not caught.value.retryable
    assert "400" in caught.value.message
    assert len([e for e in mock.requests() if "A_Product" in e["url"]]) == 1


def test_an_odata_v2_error_is_reported_by_code_message_and_target(
    mock: MockSap, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SAP Gateway's error body (OData V2 JSON: error.code, error.message.value,
    innererror.errordetails) is read, not quoted raw."""
    body = {
        "error": {
            "code": "CX_SADL_ENTITY_SEARCH/011",
            "message": {"lang": "en", "value": "Property 'Prodcut' not found in A_Product"},
            "innererror": {
                "transactionid": "2A1B3C4D5E6F708192A3B4C5D6E7F809",
                "errordetails": [
                    {
                        "code": "CX_SADL_ENTITY_SEARCH/011",
                        "message": "Property 'Prodcut' not found in A_Product",
                        "propertyref": "",
                        "severity": "error",
                        "target": "$filter",
                    }
                ],
            },
        }
    }
    sap = connector(mock, "sap-400-odata", monkeypatch)
    mock.faults({"match": "A_Product", "status": 400, "body": json.dumps(body), "times": 1})
    with pytest.raises(ConnectorError) as caught:
        sap.changed_items(None)
    assert caught.value.message.endswith(
        ": HTTP 400 from /sap/opu/odata/sap/API_PRODUCT_SRV/A_Product: "
        "CX_SADL_ENTITY_SEARCH/011: Property 'Prodcut' not found in A_Product (target $filter)"
    )


def test_a_partial_page_is_malformed_and_nothing_of_it_is_yielded(
    mock: MockSap, monkeypatch: pytest.MonkeyPatch
) -> None:
    sap = connector(mock, "sap-partial", monkeypatch, page_size=4)
    mock.faults({"match": "%24skip=4", "truncate": 1})
    yielded: list[str] = []

    def drain() -> None:
        for page in sap.stream_positions():
            yielded.extend(p.sku for p in page)

    with pytest.raises(MalformedPayload) as caught:
        drain()
    dc_rows = sorted(
        (r["Material"], r["StorageLocation"])
        for r in STOCK
        if r["Plant"] == "1010" and r["InventoryStockType"] in ("01", "06")
    )
    assert yielded, "the first, whole page was yielded"
    assert not {material for material, _ in dc_rows[4:]} & set(yielded), (
        "nothing of the partial page (nor the material carried into it) was yielded"
    )
    assert caught.value.field == "d.results"
    assert caught.value.value == len(dc_rows) - 4 - 1, "the second page of plant 1010, one short"
    assert "partial page" in caught.value.message


def test_a_non_numeric_quantity_stops_the_stream_naming_field_and_value(
    mock: MockSap, monkeypatch: pytest.MonkeyPatch
) -> None:
    sap = connector(mock, "sap-bad-qty", monkeypatch)
    mock.faults({"match": STOCK_READ, "patchFirstRow": {"MatlWrhsStkQtyInMatlBaseUnit": "1O"}})
    with pytest.raises(MalformedPayload) as caught:
        list(sap.stream_positions())
    assert (caught.value.field, caught.value.value) == ("MatlWrhsStkQtyInMatlBaseUnit", "1O")
    assert caught.value.payload["Material"]


def test_a_body_that_is_not_odata_is_malformed(
    mock: MockSap, monkeypatch: pytest.MonkeyPatch
) -> None:
    sap = connector(mock, "sap-not-odata", monkeypatch)
    mock.faults({"match": "A_Product", "replaceBody": {"error": "maintenance"}})
    with pytest.raises(MalformedPayload) as caught:
        sap.changed_items(None)
    assert caught.value.field == "d.results"
    assert caught.value.payload == {"error": "maintenance"}


def test_a_count_that_changes_between_pages_is_inconsistent(
    mock: MockSap, monkeypatch: pytest.MonkeyPatch
) -> None:
    sap = connector(mock, "sap-count", monkeypatch, page_size=4)
    mock.faults({"match": "%24skip=4", "count": 99})
    with pytest.raises(MalformedPayload) as caught:
        [i for page in sap.stream_items(None) for i in page]
    assert (caught.value.field, caught.value.value) == ("d.__count", 99)

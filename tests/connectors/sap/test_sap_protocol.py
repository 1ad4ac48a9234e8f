"""The SAP connector against SAP's published OData mock server: each capability end to end."""

from __future__ import annotations

import tempfile
from datetime import UTC, date, datetime
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import sap_support
from sap_estate import DAY, ESTATE, JAN_2026, PRODUCTS, STOCK
from sap_support import PLANTS, MockSap, connector

from promoflow.connectors.ports import (
    InventorySource,
    ItemMaster,
    ItemStream,
    PositionStream,
    PurchaseOrderRequest,
    PurchaseOrderSystem,
)
from promoflow.connectors.sap.batch import BatchRequest
from promoflow.connectors.sap.mapping import PlantLocations


def _options(entry: dict[str, str]) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(entry["url"]).query).items()}


def _expected_on_hand() -> dict[tuple[str, str], float]:
    """What the estate's stock rows sum to per material and mapped location (type 01)."""
    plants = PlantLocations(PLANTS)
    expected: dict[tuple[str, str], float] = {}
    for row in STOCK:
        code = plants.location(row["Plant"], row["StorageLocation"])
        if code is None or row["InventoryStockType"] not in ("01", "06"):
            continue
        key = (row["Material"], code)
        add = float(row["MatlWrhsStkQtyInMatlBaseUnit"]) if row["InventoryStockType"] == "01" else 0
        expected[key] = expected.get(key, 0.0) + add
    return expected


def test_the_connector_implements_its_declared_ports(
    mock: MockSap, monkeypatch: pytest.MonkeyPatch
) -> None:
    sap = connector(mock, "sap-ports", monkeypatch)
    for port in (ItemMaster, ItemStream, InventorySource, PositionStream, PurchaseOrderSystem):
        assert isinstance(sap, port)
    assert sap.system == "sap-ports"
    assert {c.value for c in sap.manifest.capabilities} == {
        "item_master",
        "inventory",
        "purchase_orders",
    }


def test_items_stream_page_by_page_with_select_expand_and_sap_client(
    mock: MockSap, monkeypatch: pytest.MonkeyPatch
) -> None:
    sap = connector(mock, "sap-items", monkeypatch, page_size=4)
    pages = [list(page) for page in sap.stream_items(None)]
    assert [len(p) for p in pages] == [4, len(PRODUCTS) - 4]
    assert [i.sku for p in pages for i in p] == sorted(p["Product"] for p in PRODUCTS)
    reads = [_options(e) for e in mock.requests() if "A_Product" in e["url"]]
    assert [r["$skip"] for r in reads] == ["0", "4"]
    assert all(r["$top"] == "4" and r["$inlinecount"] == "allpages" for r in reads)
    assert reads[0]["sap-client"] == "100"
    assert reads[0]["$expand"] == "to_Description,to_Valuation"
    assert "ProductGroup" in reads[0]["$select"].split(",")


def test_item_status_follows_the_connections_blocking_statuses(
    mock: MockSap, monkeypatch: pytest.MonkeyPatch
) -> None:
    """TG13 carries CrossPlantStatus 01 (no validity date: valid now)."""

    def statuses(sap_name: str, **settings: str) -> dict[str, str]:
        sap = connector(mock, sap_name, monkeypatch, **settings)
        return {i.sku: i.status for page in sap.stream_items(None) for i in page}

    assert statuses("sap-status-default")["TG13"] == "inactive"
    assert statuses("sap-status-z1", sales_blocking_statuses="Z1")["TG13"] == "active"
    reads = [_options(e) for e in mock.requests() if "A_Product" in e["url"]]
    assert "CrossPlantStatusValidityDate" in reads[0]["$select"].split(",")


def test_changed_items_since_filters_on_the_change_timestamp(
    mock: MockSap, monkeypatch: pytest.MonkeyPatch
) -> None:
    sap = connector(mock, "sap-since", monkeypatch)
    since = datetime.fromtimestamp((JAN_2026 + 25 * DAY) / 1000, tz=UTC)
    changed = sap.changed_items(since)
    later = sorted(
        p["Product"] for p in PRODUCTS if int(p["LastChangeDateTime"][6:-7]) > (JAN_2026 + 25 * DAY)
    )
    assert [c["sku"] for c in changed] == later
    assert all(isinstance(c["unit_cost"], str) for c in changed)
    filters = [_options(e).get("$filter", "") for e in mock.requests() if "A_Product" in e["url"]]
    assert all("LastChangeDateTime gt datetimeoffset'2026-01-26T00:00:00Z'" in f for f in filters)


def test_positions_stream_sums_rows_across_page_boundaries(
    mock: MockSap, monkeypatch: pytest.MonkeyPatch
) -> None:
    sap = connector(mock, "sap-stream", monkeypatch, page_size=3)
    pages = list(sap.stream_positions())
    got = [(p.sku, p.location_code) for page in pages for p in page]
    assert len(got) == len(set(got)), "an item-location came in two pages"
    on_hand = {(p.sku, p.location_code): p.on_hand for page in pages for p in page}
    assert on_hand == pytest.approx(_expected_on_hand())
    transit = {(p.sku, p.location_code): p.in_transit for page in pages for p in page}
    assert transit[("TG11", "ST01")] == 6.0
    assert len(pages) > 1
    reads = [_options(e) for e in mock.requests() if "A_MatlStkInAcctMod" in e["url"]]
    assert reads[0]["$orderby"] == "Material,StorageLocation"
    assert all("1030" not in r["$filter"] for r in reads)


def test_positions_stream_for_some_locations_only(
    mock: MockSap, monkeypatch: pytest.MonkeyPatch
) -> None:
    sap = connector(mock, "sap-some", monkeypatch)
    codes = {p.location_code for page in sap.stream_positions(["ST02"]) for p in page}
    assert codes == {"ST02"}


def test_fetch_positions_reads_the_scope_in_one_batch(
    mock: MockSap, monkeypatch: pytest.MonkeyPatch
) -> None:
    sap = connector(mock, "sap-fetch", monkeypatch)
    skus = ["TG11", "TG12", "NOSTOCK"]
    positions = sap.fetch_positions(skus, ["DC01", "ST01"])
    expected = _expected_on_hand()
    assert {(p.sku, p.location_code): p.on_hand for p in positions} == {
        (sku, code): expected.get((sku, code), 0.0) for sku in skus for code in ("DC01", "ST01")
    }
    log = mock.requests()
    batches = [e for e in log if e["url"].split("?")[0].endswith("$batch")]
    assert len(batches) == 1
    assert batches[0]["contentType"].startswith("multipart/mixed; boundary=")
    assert batches[0]["csrf"] not in (None, "Fetch")


def test_server_driven_paging_follows_next_links(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with tempfile.TemporaryDirectory() as folder:
        server = MockSap(Path(folder), ESTATE, max_page_size=2)
        try:
            sap = connector(server, "sap-next", monkeypatch, page_size=0)
            items = [i.sku for page in sap.stream_items(None) for i in page]
            log = server.requests()
        finally:
            server.stop()
    assert items == sorted(p["Product"] for p in PRODUCTS)
    tokens = [_options(e).get("$skiptoken") for e in log if "A_Product" in e["url"]]
    assert tokens == [None, "2", "4"]


def _order(number: str, destination: str = "ST02") -> PurchaseOrderRequest:
    return PurchaseOrderRequest(
        number, "17300001", destination, date(2026, 3, 2), (("TG11", 24.0), ("TG12", 6.0))
    )


def test_a_purchase_order_is_created_once_per_key_by_deep_insert(
    mock: MockSap, monkeypatch: pytest.MonkeyPatch
) -> None:
    sap = connector(mock, "sap-po", monkeypatch)
    first = sap.submit_purchase_order("promo-7-po-1", _order("PO-NEW-1"))
    again = sap.submit_purchase_order("promo-7-po-1", _order("PO-NEW-1"))
    other = sap.submit_purchase_order("promo-7-po-2", _order("PO-NEW-2", "DC01"))
    assert first == again != other
    posts = [e for e in mock.requests() if e["method"] == "POST"]
    assert len(posts) == 2
    assert all(p["csrf"] not in (None, "Fetch") and p["cookie"] for p in posts)
    fetches = [e for e in mock.requests() if e["csrf"] == "Fetch"]
    assert len(fetches) == 1, "the CSRF token is fetched once and reused"
    assert sap.acknowledgements(["PO-NEW-1"]) == []  # nothing confirmed yet


def test_acknowledgements_read_confirmations_in_one_batch(
    mock: MockSap, monkeypatch: pytest.MonkeyPatch
) -> None:
    sap = connector(mock, "sap-acks", monkeypatch)
    acks = {a.number: a for a in sap.acknowledgements(["PO-ACK", "PO-PART", "PO-OPEN", "PO-REJ"])}
    assert {n: a.status for n, a in acks.items()} == {
        "PO-ACK": "acknowledged",
        "PO-PART": "partial",
        "PO-REJ": "rejected",
    }
    assert dict(acks["PO-PART"].confirmed) == {"TG11": 6.0}
    assert sum(1 for e in mock.requests() if "$batch" in e["url"]) == 1


def test_a_purchase_order_nobody_committed_to_is_deleted_once(
    mock: MockSap, monkeypatch: pytest.MonkeyPatch
) -> None:
    sap = connector(mock, "sap-cancel", monkeypatch)
    number = sap.submit_purchase_order("promo-8-po-1", _order("PO-CANCEL-1"))
    first = sap.cancel_purchase_order("promo-8-cancel-1", "PO-CANCEL-1")
    again = sap.cancel_purchase_order("promo-8-cancel-1", "PO-CANCEL-1")
    assert (first.outcome, first.detail) == ("cancelled", f"deleted {number}")
    assert (again.outcome, again.detail) == ("cancelled", "nothing standing in SAP")
    deletes = [e["url"] for e in mock.requests() if e["method"] == "DELETE"]
    assert len(deletes) == 1 and f"A_PurchaseOrder('{number}')" in deletes[0]
    # SAP keeps the order with every item flagged deleted: the supplier gate reads a rejection.
    (ack,) = sap.acknowledgements(["PO-CANCEL-1"])
    assert ack.status == "rejected"


def test_a_purchase_order_the_supplier_committed_to_stays_for_the_planner(
    mock: MockSap, monkeypatch: pytest.MonkeyPatch
) -> None:
    sap = connector(mock, "sap-cancel-acked", monkeypatch)
    answer = sap.cancel_purchase_order("k", "PO-PART")
    assert answer.outcome == "confirmed"
    assert answer.detail == "SAP PO 4500000002: TG11 6"
    assert sap.cancel_purchase_order("k", "PO-REJ").outcome == "cancelled"  # already deleted
    assert sap.cancel_purchase_order("k", "PO-NEVER-SENT").outcome == "cancelled"
    assert not [e for e in mock.requests() if e["method"] == "DELETE"]


def test_purchase_orders_need_the_purchasing_settings(
    mock: MockSap, monkeypatch: pytest.MonkeyPatch
) -> None:
    from promoflow.kit.errors import InvalidInput

    sap = connector(mock, "sap-po-config", monkeypatch, purchasing_group="")
    with pytest.raises(InvalidInput) as caught:
        sap.submit_purchase_order("k", _order("PO-X"))
    assert caught.value.field == "config.purchasing_group"
    with pytest.raises(InvalidInput) as unmapped:
        connector(mock, "sap-po-dest", monkeypatch).submit_purchase_order(
            "k", _order("PO-X", "ST99")
        )
    assert (unmapped.value.field, unmapped.value.value) == ("location_code", "ST99")
    assert not [e for e in mock.requests() if e["method"] == "POST"]


def test_connection_check_reads_one_product(mock: MockSap, monkeypatch: pytest.MonkeyPatch) -> None:
    check = connector(mock, "sap-check", monkeypatch).check_connection()
    assert check.ok
    assert str(len(PRODUCTS)) in check.detail


def test_a_changeset_of_creates_goes_through_one_batch(
    mock: MockSap, monkeypatch: pytest.MonkeyPatch
) -> None:
    sap = connector(mock, "sap-changeset", monkeypatch)
    service = sap._service("API_PURCHASEORDER_PROCESS_SRV")
    creates = [
        BatchRequest("POST", "A_PurchaseOrder", {"Supplier": "17300001", "CompanyCode": "1010"}, 1)
        for _ in range(2)
    ]
    answers = service.batch("create purchase orders", creates)
    assert [a.status for a in answers] == [201, 201]
    numbers = {a.body["d"]["PurchaseOrder"] for a in answers}
    assert len(numbers) == 2
    assert [e["method"] for e in mock.requests() if "$batch" in e["url"]] == ["POST"]


def test_missing_node_skips_and_fails_under_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sap_support.shutil, "which", lambda _: None)
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="node is not on PATH"):
        sap_support.require_mockserver()
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="node is not on PATH"):
        sap_support.require_mockserver()


def test_the_entry_point_loads_the_connector() -> None:
    from promoflow.connectors.framework import discover
    from promoflow.connectors.sap.connector import SapS4HanaConnector

    found = discover()["sap-s4hana"]
    assert found.cls is SapS4HanaConnector, found.error
    assert found.manifest is not None and found.manifest.field("password").secret

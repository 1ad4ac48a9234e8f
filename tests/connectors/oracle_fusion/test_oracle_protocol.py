"""The Oracle Fusion connector against the protocol-faithful fake, over real HTTP."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import UTC, date, datetime
from typing import Any

import pytest
from local_server import serve
from oracle_fake import PASSWORD, OracleFusionFake
from oracle_support import SECRET_ENV, connector, seeded_fake
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
from promoflow.kit.errors import InvalidInput


@pytest.fixture(autouse=True)
def _secret(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv(SECRET_ENV, PASSWORD)
    reset_breakers()
    yield
    reset_breakers()


@pytest.fixture
def fake() -> OracleFusionFake:
    return seeded_fake()


@pytest.fixture
def base_url(fake: OracleFusionFake) -> Iterator[str]:
    with serve(fake.app()) as url:
        yield url


def requests_to(fake: OracleFusionFake, fragment: str) -> list[Any]:
    return [r for r in fake.requests if r.url.path.endswith(fragment)]


def test_implements_the_ports_it_declares(base_url: str) -> None:
    oracle = connector(base_url, "ora-ports")
    for port in (ItemMaster, ItemStream, PositionStream, PurchaseOrderSystem):
        assert isinstance(oracle, port)


def test_connection_check_reads_one_item(fake: OracleFusionFake, base_url: str) -> None:
    check = connector(base_url, "ora-check").check_connection()
    assert check.ok, check.detail
    assert requests_to(fake, "/itemsV2")[0].query_params["limit"] == "1"


def test_connection_check_fails_on_a_wrong_password_without_showing_it(
    base_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(SECRET_ENV, "wrong-password-456")
    check = connector(base_url, "ora-check-bad").check_connection()
    assert not check.ok and "HTTP 401" in check.detail
    assert "wrong-password-456" not in check.detail


def test_items_page_with_limit_and_offset() -> None:
    fake = seeded_fake(extra_items=7)
    with serve(fake.app()) as url:
        pages = list(connector(url, "ora-paging", page_size=5).stream_items(None))
    assert [len(p) for p in pages] == [5, 5, 2]
    assert [i.sku for p in pages for i in p] == sorted(
        i["ItemNumber"] for i in fake.items if i["OrganizationCode"] == "V1"
    )
    queries = [r.query_params for r in requests_to(fake, "/itemsV2")]
    assert [q["offset"] for q in queries] == ["0", "5", "10"]
    assert queries[0]["q"] == "OrganizationCode = 'V1'" and queries[0]["onlyData"] == "true"
    assert queries[0]["orderBy"] == "ItemNumber:asc" and queries[0]["totalResults"] == "true"


def test_pages_follow_the_rows_the_server_serves_not_the_limit_asked_for() -> None:
    """Fusion serves fewer rows than `limit` asks (at most 499): page by what came."""
    fake = seeded_fake(extra_items=2)
    fake.limit_cap = 3
    with serve(fake.app()) as url:
        pages = list(connector(url, "ora-capped", page_size=5).stream_items(None))
    assert [len(p) for p in pages] == [3, 3, 1]
    assert [q.query_params["offset"] for q in requests_to(fake, "/itemsV2")] == ["0", "3", "6"]


def test_the_page_size_setting_stops_at_what_fusion_serves(base_url: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        connector(base_url, "ora-500", page_size=500)
    assert refused.value.field.endswith("page_size") and refused.value.value == 500
    assert len(list(connector(base_url, "ora-499", page_size=499).stream_items(None))) == 1


def test_changed_items_since(fake: OracleFusionFake, base_url: str) -> None:
    since = datetime(2025, 11, 1, tzinfo=UTC)
    changed = connector(base_url, "ora-since").changed_items(since)
    assert [(c["sku"], c["status"]) for c in changed] == [
        ("CM12345", "inactive"),
        ("CM98765", "discontinued"),
        ("RTL-1001", "active"),
    ]
    assert (
        "LastUpdateDateTime > '2025-11-01T00:00:00+00:00'"
        in (requests_to(fake, "/itemsV2")[0].query_params["q"])
    )


def test_positions_sum_balances_per_item_and_organization(base_url: str) -> None:
    oracle = connector(base_url, "ora-positions")
    positions = oracle.fetch_positions(["AS54888", "RTL-1001"], ["M1", "M2", "STORE01"])
    on_hand = {(p.sku, p.location_code): p.on_hand for p in positions}
    assert on_hand[("AS54888", "M1")] == 52.5 and on_hand[("AS54888", "M2")] == 7
    assert on_hand[("RTL-1001", "STORE01")] == 180 and on_hand[("RTL-1001", "M1")] == 0
    assert len(positions) == 6


def test_position_stream_for_some_organizations(fake: OracleFusionFake, base_url: str) -> None:
    pages = list(connector(base_url, "ora-stream", page_size=2).stream_positions(["M1"]))
    flat = [(p.sku, p.location_code, p.on_hand) for page in pages for p in page]
    assert flat == [("AS54888", "M1", 52.5), ("AS54999", "M1", 3.0)]
    assert all(
        "(OrganizationCode = 'M1')" in r.query_params["q"]
        for r in requests_to(fake, "/inventoryOnhandBalances")
    )


def order(number: str = "PF-0001", destination: str = "STORE01") -> PurchaseOrderRequest:
    return PurchaseOrderRequest(
        number=number,
        supplier_code="Lee Supplies",
        destination_code=destination,
        due=date(2026, 12, 4),
        lines=(("RTL-1001", 48.0), ("AS54888", 2.0)),
    )


def test_purchase_order_is_drafted_submitted_and_not_repeated(
    fake: OracleFusionFake, base_url: str
) -> None:
    oracle = connector(base_url, "ora-po")
    assert oracle.submit_purchase_order("k1", order()) == "PF-0001"
    assert oracle.submit_purchase_order("k1", order()) == "PF-0001"
    (po,) = fake.purchase_orders
    assert fake.drafts == [] and po["StatusCode"] == "PENDING APPROVAL"
    assert [(line["Item"], line["Quantity"]) for line in po["lines"]] == [
        ("RTL-1001", 48.0),
        ("AS54888", 2.0),
    ]
    assert po["lines"][0]["schedules"][0]["ShipToOrganizationCode"] == "STORE01"
    assert len(requests_to(fake, "/action/submit")) == 1


def test_a_draft_left_unsubmitted_is_submitted_on_retry(
    fake: OracleFusionFake, base_url: str
) -> None:
    fake.fail("/action/submit", 500, times=10)
    oracle = connector(base_url, "ora-po-retry")
    with pytest.raises(ConnectorError):
        oracle.submit_purchase_order("k2", order("PF-0002"))
    assert [d["OrderNumber"] for d in fake.drafts] == ["PF-0002"]
    fake.faults.clear()
    assert oracle.submit_purchase_order("k2", order("PF-0002")) == "PF-0002"
    assert len(fake.purchase_orders) == 1 and fake.drafts == []
    assert len([r for r in requests_to(fake, "/draftPurchaseOrders") if r.method == "POST"]) == 1


def test_a_purchase_order_oracle_refuses_is_not_retried(
    fake: OracleFusionFake, base_url: str
) -> None:
    bad = PurchaseOrderRequest("PF-0003", "Nobody Ltd", "M1", date(2026, 12, 4), (("AS54888", 1),))
    with pytest.raises(ConnectorError) as refused:
        connector(base_url, "ora-po-bad").submit_purchase_order("k3", bad)
    assert not refused.value.retryable and "Nobody Ltd" in refused.value.message
    # Oracle's error body (title, detail, o:errorCode) is read, not quoted raw.
    assert refused.value.message.endswith(
        ": HTTP 400 from /fscmRestApi/resources/11.13.18.05/draftPurchaseOrders: PO-2055001: "
        "Bad Request: The value of the attribute Supplier isn't valid: Nobody Ltd."
    )
    assert len([r for r in requests_to(fake, "/draftPurchaseOrders") if r.method == "POST"]) == 1


def test_acknowledgements_follow_the_order_status(fake: OracleFusionFake, base_url: str) -> None:
    oracle = connector(base_url, "ora-acks")
    oracle.submit_purchase_order("k", order())
    assert oracle.acknowledgements(["PF-0001"]) == []
    fake.purchase_orders[0]["StatusCode"] = "OPEN"
    fake.purchase_orders[0]["lines"][1]["StatusCode"] = "CANCELED"
    (ack,) = oracle.acknowledgements(["PF-0001", "PF-9999"])
    assert (ack.status, ack.confirmed) == ("partial", (("RTL-1001", 48.0),))
    query = requests_to(fake, "/purchaseOrders")[-1].query_params
    assert query["q"] == "(OrderNumber = 'PF-0001' or OrderNumber = 'PF-9999')"
    assert query["fields"].endswith(";lines:Item,Quantity,StatusCode")


def test_a_purchase_order_not_yet_open_is_cancelled_once(
    fake: OracleFusionFake, base_url: str
) -> None:
    oracle = connector(base_url, "ora-cancel")
    oracle.submit_purchase_order("k", order())
    first = oracle.cancel_purchase_order("k-cancel", "PF-0001")
    again = oracle.cancel_purchase_order("k-cancel", "PF-0001")
    assert (first.outcome, again.outcome) == ("cancelled", "cancelled")
    assert again.detail == "already CANCELED"
    (po,) = fake.purchase_orders
    assert po["StatusCode"] == "CANCELED"
    assert {line["StatusCode"] for line in po["lines"]} == {"CANCELED"}
    cancels = requests_to(fake, "/action/cancel")
    assert len(cancels) == 1
    assert cancels[0].headers["content-type"] == "application/vnd.oracle.adf.action+json"
    (ack,) = oracle.acknowledgements(["PF-0001"])
    assert ack.status == "rejected"  # what the supplier gate will read from now on


def test_an_open_purchase_order_stays_for_the_planner(
    fake: OracleFusionFake, base_url: str
) -> None:
    oracle = connector(base_url, "ora-cancel-open")
    oracle.submit_purchase_order("k", order())
    fake.purchase_orders[0]["StatusCode"] = "OPEN"
    answer = oracle.cancel_purchase_order("k-cancel", "PF-0001")
    assert (answer.outcome, answer.detail) == ("confirmed", "the order is OPEN")
    assert requests_to(fake, "/action/cancel") == []


def test_a_draft_left_behind_is_deleted_and_an_unknown_order_is_nothing_to_cancel(
    fake: OracleFusionFake, base_url: str
) -> None:
    fake.fail("/action/submit", 500, times=10)
    oracle = connector(base_url, "ora-cancel-draft")
    with pytest.raises(ConnectorError):
        oracle.submit_purchase_order("k", order("PF-0004"))
    fake.faults.clear()
    assert oracle.cancel_purchase_order("k-c", "PF-0004").outcome == "cancelled"
    assert fake.drafts == [] and fake.purchase_orders == []
    unknown = oracle.cancel_purchase_order("k-u", "PF-0404")
    assert (unknown.outcome, unknown.detail) == ("cancelled", "no such order in Oracle")


@pytest.mark.parametrize("status", [429, 500, 503, 504])
def test_transient_failures_are_retried(fake: OracleFusionFake, base_url: str, status: int) -> None:
    fake.fail("/itemsV2", status, times=2)
    assert len(connector(base_url, f"ora-retry-{status}").changed_items(None)) == 5
    assert len(requests_to(fake, "/itemsV2")) == 3


def test_a_client_error_is_not_retried(fake: OracleFusionFake, base_url: str) -> None:
    fake.fail("/itemsV2", 404, times=5)
    with pytest.raises(ConnectorError) as failed:
        connector(base_url, "ora-404").changed_items(None)
    assert not failed.value.retryable and "HTTP 404" in failed.value.message
    assert len(requests_to(fake, "/itemsV2")) == 1


def test_the_password_never_shows_in_logs_repr_or_errors(
    base_url: str,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    caplog.set_level(logging.DEBUG)
    oracle = connector(base_url, "ora-secret")
    with capture_logs() as events:
        oracle.submit_purchase_order("k", order())
        monkeypatch.setenv(SECRET_ENV, "x" + PASSWORD)
        with pytest.raises(ConnectorError) as refused:
            oracle.changed_items(None)
    shown = " ".join(
        [
            repr(oracle),
            repr(oracle.client),
            str(refused.value),
            caplog.text,
            str(events),
            *capsys.readouterr(),
        ]
    )
    assert PASSWORD not in shown and "env:" + SECRET_ENV in repr(oracle)


def _short_page(body: dict[str, Any]) -> dict[str, Any]:
    body["items"] = body["items"][:2]
    body["count"] = 2
    body["hasMore"] = True
    return body


def _no_item_number(body: dict[str, Any]) -> dict[str, Any]:
    del body["items"][1]["ItemNumber"]
    return body


def _count_mismatch(body: dict[str, Any]) -> dict[str, Any]:
    body["count"] = body["count"] + 1
    return body


@pytest.mark.parametrize(
    ("mangle", "field", "value"),
    [
        (_short_page, "hasMore", True),
        (_no_item_number, "ItemNumber", None),
        (_count_mismatch, "count", 6),
    ],
)
def test_malformed_item_pages_are_refused_whole(
    fake: OracleFusionFake, base_url: str, mangle: Any, field: str, value: Any
) -> None:
    fake.mangle("/itemsV2", mangle)
    with pytest.raises(MalformedPayload) as refused:
        list(connector(base_url, f"ora-bad-{field}", page_size=200).stream_items(None))
    assert (refused.value.field, refused.value.value) == (field, value)
    assert refused.value.payload is not None
    assert len(requests_to(fake, "/itemsV2")) == 1


def test_a_non_numeric_quantity_names_the_balance(fake: OracleFusionFake, base_url: str) -> None:
    fake.balances[2]["PrimaryQuantity"] = "seven"
    with pytest.raises(MalformedPayload) as refused:
        connector(base_url, "ora-bad-qty").fetch_positions(["AS54888"], ["M2"])
    assert (refused.value.field, refused.value.value) == ("PrimaryQuantity", "seven")
    assert refused.value.payload["SubinventoryCode"] == "Stores"

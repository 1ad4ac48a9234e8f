"""Oracle Fusion payloads (recorded, shaped as Oracle publishes them) -> canonical records."""

from __future__ import annotations

import copy
from datetime import date

import pytest
from oracle_support import recorded

from promoflow.connectors.oracle_fusion import mapping
from promoflow.connectors.ports import MalformedPayload, PurchaseOrderRequest

SYSTEM = "oracle-test"


def test_items_map_to_canonical_items() -> None:
    page, more = mapping.collection_page(
        SYSTEM, recorded("oracle_items_page.json"), limit=25, offset=0
    )
    items = mapping.item_page(SYSTEM, page, source=SYSTEM)
    assert not more
    assert [(i.sku, i.status, i.category) for i in items[:4]] == [
        ("AS54888", "active", "Computers"),
        ("AS54999", "active", "Computers"),
        ("CM12345", "inactive", "Components"),
        ("CM98765", "discontinued", "Components"),
    ]
    assert items[0].name == "Sentinel Standard Desktop - Rugged"


@pytest.mark.parametrize(("field", "value"), [("ItemNumber", ""), ("ItemStatusValue", None)])
def test_an_item_that_cannot_be_mapped_fails_the_page(field: str, value: object) -> None:
    rows = copy.deepcopy(recorded("oracle_items_page.json")["items"])
    rows[2][field] = value
    with pytest.raises(MalformedPayload) as refused:
        mapping.item_page(SYSTEM, rows, source=SYSTEM)
    assert (refused.value.field, refused.value.value, refused.value.payload) == (
        field,
        value,
        rows[2],
    )


def test_onhand_balances_map_to_stock_rows() -> None:
    rows = mapping.onhand_rows(SYSTEM, recorded("oracle_onhand_page.json")["items"])
    assert [(r.sku, r.location_code, r.quantity) for r in rows[:2]] == [
        ("AS54888", "M1", 40.0),
        ("AS54888", "M1", 12.5),
    ]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"hasMore": True}, "hasMore"),
        ({"count": 4}, "count"),
        ({"offset": 25}, "offset"),
        ({"totalResults": 3}, "totalResults"),
        ({"totalResults": 9}, "totalResults"),
        ({"hasMore": "no"}, "hasMore"),
        ({"items": None}, "items"),
    ],
)
def test_inconsistent_pages_are_refused(change: dict[str, object], field: str) -> None:
    body = {**recorded("oracle_items_page.json"), **change}
    with pytest.raises(MalformedPayload) as refused:
        mapping.collection_page(SYSTEM, body, limit=25, offset=0)
    assert refused.value.field == field and refused.value.value == change[field]


def test_a_full_page_with_more_to_come_is_accepted() -> None:
    body = {**recorded("oracle_items_page.json"), "hasMore": True, "totalResults": 12}
    rows, more = mapping.collection_page(SYSTEM, body, limit=5, offset=0)
    assert len(rows) == 5 and more


def test_an_open_order_with_a_canceled_line_is_partial() -> None:
    (row,) = recorded("oracle_purchase_orders_page.json")["items"]
    ack = mapping.acknowledgement(SYSTEM, row)
    assert ack is not None and ack.number == "1003124" and ack.status == "partial"
    assert ack.confirmed == (("AS54888", 10.0), ("AS54999", 2.5))


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ("PENDING APPROVAL", None),
        ("INCOMPLETE", None),
        ("REJECTED", "rejected"),
        ("CANCELED", "rejected"),
        ("CLOSED FOR RECEIVING", "partial"),
    ],
)
def test_order_status_decides_the_answer(status: str, expected: str | None) -> None:
    (row,) = recorded("oracle_purchase_orders_page.json")["items"]
    ack = mapping.acknowledgement(SYSTEM, {**row, "StatusCode": status})
    assert (ack.status if ack else None) == expected


def test_an_unknown_order_status_is_malformed() -> None:
    (row,) = recorded("oracle_purchase_orders_page.json")["items"]
    with pytest.raises(MalformedPayload) as refused:
        mapping.acknowledgement(SYSTEM, {**row, "StatusCode": "SHIPPED"})
    assert (refused.value.field, refused.value.value) == ("StatusCode", "SHIPPED")


def test_the_draft_carries_a_schedule_per_line() -> None:
    order = PurchaseOrderRequest("PF-1", "Lee Supplies", "M1", date(2026, 12, 4), (("AS54888", 3),))
    body = mapping.draft_purchase_order(
        order, procurement_bu="Vision Operations", buyer="Furey,Clare", supplier_site="Lee US1"
    )
    assert body["OrderNumber"] == "PF-1" and body["Supplier"] == "Lee Supplies"
    (line,) = body["lines"]
    assert (line["LineNumber"], line["Item"], line["Quantity"]) == (1, "AS54888", 3)
    assert line["schedules"] == [
        {
            "ScheduleNumber": 1,
            "Quantity": 3,
            "ShipToOrganizationCode": "M1",
            "RequestedDeliveryDate": "2026-12-04",
        }
    ]


def test_a_page_the_server_served_smaller_than_asked_is_whole() -> None:
    """Asked for 500, Fusion serves 499 and says so in the page's `limit` (not partial)."""
    body = {**recorded("oracle_items_page.json"), "limit": 5, "hasMore": True}
    rows, more = mapping.collection_page(SYSTEM, body, limit=500, offset=0)
    assert len(rows) == 5 and more


@pytest.mark.parametrize("limit", [0, "499", None, True])
def test_a_page_without_a_usable_limit_is_refused(limit: object) -> None:
    body = {**recorded("oracle_items_page.json"), "limit": limit}
    with pytest.raises(MalformedPayload) as refused:
        mapping.collection_page(SYSTEM, body, limit=25, offset=0)
    assert (refused.value.field, refused.value.value) == ("limit", limit)

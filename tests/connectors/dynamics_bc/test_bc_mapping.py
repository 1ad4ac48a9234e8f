"""Business Central payloads (recorded, shaped as Microsoft publishes them) -> canonical records."""

from __future__ import annotations

import copy
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from bc_support import recorded

from promoflow.connectors.dynamics_bc import mapping
from promoflow.connectors.dynamics_bc.units import ItemUnits, item_units
from promoflow.connectors.ports import MalformedPayload, PurchaseOrderRequest, item_change

SYSTEM = "bc-test"
ORIGIN = "https://api.businesscentral.dynamics.com"
# The recorded items with their base units, and the recorded itemUnitsOfMeasure.
UNITS = item_units(
    SYSTEM,
    recorded("bc_items_page.json")["value"],
    recorded("bc_item_units_of_measure_page.json")["value"],
)


def test_items_map_to_canonical_items() -> None:
    rows = recorded("bc_items_page.json")["value"]
    items = mapping.item_page(SYSTEM, rows, source=SYSTEM)
    desk = items[0]
    assert (desk.sku, desk.name, desk.category, desk.status) == (
        "1896-S",
        "ATHENS Desk",
        "TABLE",
        "active",
    )
    assert desk.unit_cost == Decimal("780.7") and desk.regular_price == Decimal("1000.8")
    assert desk.gtin is None
    assert items[1].gtin == "5012345678900"
    assert [i.status for i in items if i.sku == "1908-S"] == ["inactive"]


def test_a_decimal_sent_as_a_string_is_read_exactly() -> None:
    row = {**recorded("bc_items_page.json")["value"][0], "unitPrice": "1000.80"}
    assert mapping.item_record(SYSTEM, row, source=SYSTEM).regular_price == Decimal("1000.80")


@pytest.mark.parametrize(
    ("field", "value"),
    [("number", ""), ("number", None), ("blocked", "no"), ("unitCost", "n/a"), ("unitPrice", True)],
)
def test_an_item_that_cannot_be_mapped_fails_the_whole_page(field: str, value: object) -> None:
    rows = copy.deepcopy(recorded("bc_items_page.json")["value"])
    rows[3][field] = value
    with pytest.raises(MalformedPayload) as refused:
        mapping.item_page(SYSTEM, rows, source=SYSTEM)
    assert (refused.value.field, refused.value.value) == (field, value)
    assert refused.value.payload == rows[3]
    assert field in str(refused.value)


def test_item_as_dict_keeps_amounts_exact() -> None:
    item = mapping.item_record(SYSTEM, recorded("bc_items_page.json")["value"][1], source=SYSTEM)
    values = item_change(item)
    assert values["sku"] == "1900-S" and values["unit_cost"] == "150.4"


def test_ledger_entries_map_to_stock_rows_with_their_location() -> None:
    rows = mapping.ledger_rows(SYSTEM, recorded("bc_item_ledger_entries_page.json")["value"])
    assert [(r.sku, r.location_code, r.quantity) for r in rows[:3]] == [
        ("1896-S", "BLUE", 10.0),
        ("1896-S", "BLUE", -4.0),
        ("1896-S", "RED", 6.0),
    ]
    assert rows[-1].location_code == ""


def test_a_ledger_entry_without_a_location_code_is_malformed() -> None:
    rows = copy.deepcopy(recorded("bc_item_ledger_entries_page.json")["value"])
    del rows[4]["locationCode"]
    with pytest.raises(MalformedPayload) as refused:
        mapping.ledger_rows(SYSTEM, rows)
    assert (refused.value.field, refused.value.value) == ("locationCode", None)


def test_a_page_with_a_next_link_but_no_rows_is_partial() -> None:
    body = {"value": [], "@odata.nextLink": f"{ORIGIN}/v2.0/x/items?$skiptoken=2"}
    with pytest.raises(MalformedPayload) as refused:
        mapping.collection_page(SYSTEM, body, origin=ORIGIN, current_url=f"{ORIGIN}/v2.0/x/items")
    assert refused.value.field == "value"


def test_a_page_without_value_is_malformed() -> None:
    with pytest.raises(MalformedPayload) as refused:
        mapping.collection_page(SYSTEM, {"error": "x"}, origin=ORIGIN, current_url="")
    assert (refused.value.field, refused.value.value) == ("value", None)


def test_a_released_order_is_acknowledged_with_its_item_lines() -> None:
    (row,) = recorded("bc_purchase_orders_expanded_page.json")["value"]
    ack = mapping.acknowledgement(SYSTEM, row, UNITS)
    assert ack is not None
    assert ack.number == "PO-2026-0042" and ack.status == "acknowledged"
    assert ack.confirmed == (("1896-S", 12.0), ("1900-S", 24.5))
    assert ack.acknowledged_at == datetime(2026, 11, 21, 14, 2, 11, 407000, tzinfo=UTC)


# Business Central sends enum members as XML names: `In_x0020_Review` is "In Review"
# (Microsoft Learn, "Transition to API v2.0": enums; microsoft/ALAppExtensions#26318).
@pytest.mark.parametrize("status", ["Draft", "In Review", "In_x0020_Review"])
def test_an_order_not_yet_released_has_no_acknowledgement(status: str) -> None:
    (row,) = recorded("bc_purchase_orders_expanded_page.json")["value"]
    assert mapping.acknowledgement(SYSTEM, {**row, "status": status}, UNITS) is None


def test_an_unknown_order_status_is_malformed() -> None:
    (row,) = recorded("bc_purchase_orders_expanded_page.json")["value"]
    with pytest.raises(MalformedPayload) as refused:
        mapping.acknowledgement(SYSTEM, {**row, "status": "Shipped"}, UNITS)
    assert (refused.value.field, refused.value.value) == ("status", "Shipped")


def test_the_purchase_order_body_is_one_deep_insert() -> None:
    order = PurchaseOrderRequest("PO-1", "20000", "BLUE", date(2026, 12, 4), (("1896-S", 3.0),))
    body = mapping.purchase_order_body(order, "loc-guid", [("1896-S", "PCS", 3.0)])
    assert body["number"] == "PO-1" and body["vendorNumber"] == "20000"
    assert body["requestedReceiptDate"] == "2026-12-04"
    assert body["purchaseOrderLines"] == [
        {
            "sequence": 10000,
            "lineType": "Item",
            "lineObjectNumber": "1896-S",
            "unitOfMeasureCode": "PCS",
            "quantity": 3.0,
            "locationId": "loc-guid",
            "expectedReceiptDate": "2026-12-04",
        }
    ]


def test_an_order_awaiting_approval_as_the_api_sends_it_is_not_yet_acknowledged() -> None:
    """One order In_x0020_Review no longer fails the whole acknowledgement poll."""
    (released,) = recorded("bc_purchase_orders_expanded_page.json")["value"]
    in_review = {**released, "number": "PO-2026-0043", "status": "In_x0020_Review"}
    page = [in_review, released]
    assert mapping.released_item_numbers(SYSTEM, page) == ["1896-S", "1900-S"]
    acks = [mapping.acknowledgement(SYSTEM, row, UNITS) for row in page]
    assert acks[0] is None and acks[1] is not None and acks[1].number == "PO-2026-0042"


def test_an_encoded_line_type_is_read_decoded() -> None:
    """`G_x002F_L_x0020_Account` is a G/L Account line, not an item line."""
    (row,) = copy.deepcopy(recorded("bc_purchase_orders_expanded_page.json")["value"])
    row["purchaseOrderLines"][2]["lineType"] = "G_x002F_L_x0020_Account"
    ack = mapping.acknowledgement(SYSTEM, row, UNITS)
    assert ack is not None and ack.confirmed == (("1896-S", 12.0),)


def test_acknowledged_lines_in_boxes_are_confirmed_in_base_units() -> None:
    (row,) = copy.deepcopy(recorded("bc_purchase_orders_expanded_page.json")["value"])
    row["purchaseOrderLines"][2].update({"unitOfMeasureCode": "BOX", "quantity": 6})
    ack = mapping.acknowledgement(SYSTEM, row, UNITS)
    assert ack is not None and ack.confirmed == (("1896-S", 12.0), ("1900-S", 24.0))


def test_an_acknowledged_line_in_an_unknown_unit_is_an_error_not_a_quantity() -> None:
    (row,) = copy.deepcopy(recorded("bc_purchase_orders_expanded_page.json")["value"])
    row["purchaseOrderLines"][0]["unitOfMeasureCode"] = "PALLET"
    with pytest.raises(MalformedPayload) as refused:
        mapping.acknowledgement(SYSTEM, row, UNITS)
    assert (refused.value.field, refused.value.value) == ("unitOfMeasureCode", "PALLET")
    assert "1896-S" in str(refused.value) and "PO-2026-0042" in str(refused.value)
    with pytest.raises(MalformedPayload):
        mapping.acknowledgement(SYSTEM, row, ItemUnits(base={"1896-S": "PCS"}))

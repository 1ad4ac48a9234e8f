"""SAP payloads -> canonical records, on answers recorded from the OData mock server.

The fixtures are the mock server's answers for the real EDMX of each service (V2
JSON: `d.results`, `__metadata`, `/Date(ms)/`, decimals as strings).
"""

from __future__ import annotations

import copy
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from sap_support import FIXTURES, fixture

from promoflow.connectors.ports import MalformedPayload, PurchaseOrderRequest
from promoflow.connectors.sap.batch import BatchRequest, decode_batch, encode_batch
from promoflow.connectors.sap.mapping import (
    PlantLocations,
    PurchasingSettings,
    StockTypes,
    acknowledgement,
    collection_page,
    item_record,
    purchase_order_payload,
    stock_positions,
)
from promoflow.connectors.sap.status import StatusRule, blocking_statuses
from promoflow.kit.errors import InvalidInput

AS_OF = datetime(2026, 2, 1, tzinfo=UTC)
PLANTS = PlantLocations("1010=DC01, 1020=ST01, 1020/0002=ST02")
TYPES = StockTypes(frozenset({"01"}), frozenset({"06"}))
# The recorded product with status 01 has it valid from 2026-11-27 (/Date(1795814194961)/).
RULE = StatusRule(frozenset({"01"}), date(2026, 12, 1))


def test_products_map_name_status_group_cost_and_gtin() -> None:
    page = collection_page("sap", fixture("A_Product_page.json"))
    items = [item_record("sap", row, "EN", "1010", rule=RULE) for row in page.rows]
    first = page.rows[0]
    assert page.count is not None and page.count >= len(items)
    assert items[0].sku == first["Product"]
    english = next(d for d in first["to_Description"]["results"] if d["Language"] == "EN")
    assert items[0].name == english["ProductDescription"]
    assert items[0].category == first["ProductGroup"]
    assert items[0].gtin == first["ProductStandardID"]
    valuation = first["to_Valuation"]["results"][0]
    expected_cost = Decimal(valuation["StandardPrice"]) / Decimal(valuation["PriceUnitQty"])
    assert items[0].unit_cost == expected_cost
    by_sku = {item.sku: item for item in items}
    blocked = next(r for r in page.rows if r["CrossPlantStatus"])
    assert by_sku[blocked["Product"]].status == "inactive"


def _status(rule: StatusRule, **fields: object) -> str:
    """The status of the recorded blocked product (A_Product_page.json) with `fields` set."""
    page = collection_page("sap", fixture("A_Product_page.json"))
    row = copy.deepcopy(next(r for r in page.rows if r["CrossPlantStatus"]))
    row.update(fields)
    return item_record("sap", row, "EN", "1010", rule=rule).status


def test_only_a_status_that_blocks_sales_makes_an_item_inactive() -> None:
    """Status 02 (blocked for task list/BOM) or a customer's Z1 leaves the item on sale."""
    assert _status(RULE, CrossPlantStatus="01") == "inactive"
    assert _status(RULE, CrossPlantStatus="02") == "active"
    assert _status(RULE, CrossPlantStatus="Z1") == "active"
    custom = StatusRule(blocking_statuses("01, z1"), date(2026, 12, 1))
    assert _status(custom, CrossPlantStatus="Z1") == "inactive"


def test_a_blocking_status_counts_from_its_validity_date() -> None:
    """`/Date(1795814194961)/` is 2026-11-27: active the day before, inactive from then."""
    assert _status(StatusRule(frozenset({"01"}), date(2026, 11, 26))) == "active"
    assert _status(StatusRule(frozenset({"01"}), date(2026, 11, 27))) == "inactive"
    assert _status(RULE, CrossPlantStatusValidityDate=None) == "inactive"
    with pytest.raises(MalformedPayload) as caught:
        _status(RULE, CrossPlantStatusValidityDate="2026-11-27")
    assert caught.value.field == "CrossPlantStatusValidityDate"


def test_a_status_setting_longer_than_sap_allows_is_refused() -> None:
    with pytest.raises(InvalidInput) as caught:
        blocking_statuses("01, BLOCKED")
    assert (caught.value.field, caught.value.value) == ("config.sales_blocking_statuses", "BLOCKED")


def test_product_name_falls_back_to_another_language_and_deletion_discontinues() -> None:
    row = copy.deepcopy(fixture("A_Product_page.json")["d"]["results"][0])
    row["IsMarkedForDeletion"] = True
    item = item_record("sap", row, "FR", "", rule=RULE)
    assert item.status == "discontinued"
    assert item.name in {d["ProductDescription"] for d in row["to_Description"]["results"]}


def test_product_without_description_names_the_field() -> None:
    row = copy.deepcopy(fixture("A_Product_page.json")["d"]["results"][0])
    row["to_Description"] = {"results": []}
    with pytest.raises(MalformedPayload) as caught:
        item_record("sap", row, "EN", "", rule=RULE)
    assert caught.value.field == "to_Description"
    assert caught.value.payload["Product"] == row["Product"]


def test_moving_average_price_is_used_under_price_control_v() -> None:
    row = copy.deepcopy(fixture("A_Product_page.json")["d"]["results"][0])
    valuation = row["to_Valuation"]["results"][0]
    valuation.update({"PriceDeterminationControl": "V", "MovingAveragePrice": "3.300"})
    valuation["PriceUnitQty"] = "1"
    assert item_record("sap", row, "EN", "1010", rule=RULE).unit_cost == Decimal("3.3")


def test_stock_rows_sum_per_material_and_location_by_stock_type() -> None:
    rows = collection_page("sap", fixture("A_MatlStkInAcctMod_page.json")).rows
    positions = stock_positions("sap", rows, PLANTS, TYPES, AS_OF)
    expected: dict[tuple[str, str], float] = {}
    for row in rows:
        code = PLANTS.location(row["Plant"], row["StorageLocation"])
        if code is not None and row["InventoryStockType"] == "01":
            key = (row["Material"], code)
            expected[key] = expected.get(key, 0.0) + float(row["MatlWrhsStkQtyInMatlBaseUnit"])
    assert expected, "the recorded page holds unrestricted stock of mapped plants"
    for key, on_hand in expected.items():
        assert positions[key].on_hand == pytest.approx(on_hand)
        assert positions[key].as_of == AS_OF
    assert all(p.location_code in {"DC01", "ST01", "ST02"} for p in positions.values())


def test_storage_location_entry_wins_over_its_plant() -> None:
    assert PLANTS.location("1020", "0002") == "ST02"
    assert PLANTS.location("1020", "0001") == "ST01"
    assert PLANTS.location("1030", "0001") is None
    assert PLANTS.plant_of("ST02") == ("1020", "0002")


@pytest.mark.parametrize("value", ["abc", None, "NaN"])
def test_a_non_numeric_quantity_names_field_and_value(value: object) -> None:
    rows = copy.deepcopy(collection_page("sap", fixture("A_MatlStkInAcctMod_page.json")).rows)
    rows[1]["MatlWrhsStkQtyInMatlBaseUnit"] = value
    with pytest.raises(MalformedPayload) as caught:
        stock_positions("sap", rows, PLANTS, TYPES, AS_OF)
    assert caught.value.field == "MatlWrhsStkQtyInMatlBaseUnit"
    assert caught.value.value == value
    assert caught.value.payload == rows[1]
    assert not caught.value.retryable


def test_an_answer_that_is_not_a_collection_is_malformed() -> None:
    with pytest.raises(MalformedPayload) as caught:
        collection_page("sap", {"d": {"Material": "TG11"}})
    assert caught.value.field == "d.results"
    with pytest.raises(MalformedPayload) as counted:
        collection_page("sap", {"d": {"__count": "many", "results": []}})
    assert (counted.value.field, counted.value.value) == ("d.__count", "many")


@pytest.mark.parametrize(
    "setting",
    ["1010", "=DC01", "1010=", "", "1010/0001"],
    ids=["no-code", "no-plant", "empty-code", "empty", "sloc-only"],
)
def test_plant_location_setting_refuses_bad_entries(setting: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        PlantLocations(setting)
    assert caught.value.field == "config.plant_locations"


def test_acknowledgements_from_committed_schedule_lines() -> None:
    rows = collection_page("sap", fixture("A_PurchaseOrder_expanded.json")).rows
    acks = {row["CorrespncInternalReference"]: acknowledgement("sap", row) for row in rows}
    full = acks["PO-ACK"]
    assert full is not None and full.status == "acknowledged"
    ordered = {
        i["Material"]: float(i["OrderQuantity"])
        for r in rows
        if r["CorrespncInternalReference"] == "PO-ACK"
        for i in r["to_PurchaseOrderItem"]["results"]
    }
    assert dict(full.confirmed) == ordered
    assert full.acknowledged_at is not None
    partial = acks["PO-PART"]
    assert partial is not None and partial.status == "partial"
    assert acks["PO-OPEN"] is None
    rejected = acks["PO-REJ"]
    assert rejected is not None and rejected.status == "rejected"


def test_purchase_order_payload_is_one_deep_insert() -> None:
    order = PurchaseOrderRequest("PO-9", "17300001", "ST02", date(2026, 3, 2), (("TG11", 24.0),))
    settings = PurchasingSettings("1010", "1010", "001", "NB")
    payload = purchase_order_payload(order, "PFABC", "1020", "0002", settings)
    item = payload["to_PurchaseOrderItem"]["results"][0]
    assert (payload["Supplier"], payload["CorrespncInternalReference"]) == ("17300001", "PO-9")
    assert (item["Material"], item["Plant"], item["StorageLocation"]) == ("TG11", "1020", "0002")
    line = item["to_ScheduleLine"]["results"][0]
    assert line["ScheduleLineDeliveryDate"] == "/Date(1772409600000)/"
    assert Decimal(line["ScheduleLineOrderQuantity"]) == Decimal(24)


def test_purchase_order_refuses_a_non_positive_quantity() -> None:
    order = PurchaseOrderRequest("PO-9", "17300001", "DC01", date(2026, 3, 2), (("TG11", 0.0),))
    with pytest.raises(InvalidInput) as caught:
        purchase_order_payload(order, "PF", "1010", "", PurchasingSettings("1", "1", "1", "NB"))
    assert caught.value.field == "order.lines[0].quantity"


def test_recorded_batch_answer_decodes_in_request_order() -> None:
    head, _, body = (FIXTURES / "batch_stock_response.http").read_bytes().partition(b"\r\n\r\n")
    content_type = head.decode().removeprefix("Content-Type: ")
    answers = decode_batch(content_type, body)
    assert [a.status for a in answers] == [200, 200]
    materials = [{r["Material"] for r in a.body["d"]["results"]} for a in answers]
    assert materials == [{"TG12"}, {"TG16"}]


def test_batch_encoding_groups_a_changeset() -> None:
    content_type, body = encode_batch(
        [
            BatchRequest("GET", "A_Product?$top=1"),
            BatchRequest("POST", "A_PurchaseOrder", {"Supplier": "1"}, changeset=1),
            BatchRequest("POST", "A_PurchaseOrder", {"Supplier": "2"}, changeset=1),
        ]
    )
    text = body.decode()
    assert content_type.startswith("multipart/mixed; boundary=batch_")
    assert text.count("boundary=changeset_") == 1
    assert text.count("Content-ID:") == 2
    assert "GET A_Product?$top=1 HTTP/1.1" in text
    with pytest.raises(ValueError, match="multipart"):
        decode_batch("application/json", b"{}")

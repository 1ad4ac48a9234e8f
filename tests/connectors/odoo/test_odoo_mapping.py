"""Odoo answers (recorded, shaped as search_read and the error renderers return them) mapped."""

from __future__ import annotations

import copy
from datetime import UTC, date, datetime
from decimal import Decimal

import httpx
import pytest
from odoo_support import recorded

from promoflow.connectors.framework import ConnectorConfig, ConnectorContext
from promoflow.connectors.odoo import errors, mapping
from promoflow.connectors.odoo.connector import OdooConnector
from promoflow.connectors.ports import ConnectorUnavailable, MalformedPayload, PurchaseOrderRequest
from promoflow.connectors.resilience import Guard
from promoflow.connectors.stock import sum_positions
from promoflow.kit.errors import InvalidInput

SYSTEM = "odoo-test"


def test_products_map_to_canonical_items() -> None:
    rows = mapping.records(SYSTEM, recorded("odoo_product_search_read.json"), "products")
    items = mapping.item_page(SYSTEM, rows, source=SYSTEM)
    assert [(i.sku, i.status, i.department, i.category) for i in items] == [
        ("FURN_7800", "active", "Saleable", "Office Furniture"),
        ("FURN_6666", "active", "All", "Saleable"),
        ("E-COM11", "inactive", "Saleable", "Office Furniture"),
        ("FURN_8888", "active", "", "All"),
    ]
    desk, screens = items[0], items[1]
    assert (desk.gtin, desk.regular_price, desk.unit_cost) == (
        "4006381333931",
        Decimal("450.0"),
        Decimal("300.0"),
    )
    assert screens.gtin is None and screens.name == "Acoustic Bloc Screens"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("default_code", False),
        ("active", None),
        ("list_price", "450"),
        ("categ_id", [8]),
        ("standard_price", float("nan")),
    ],
)
def test_a_product_that_cannot_be_mapped_fails_the_page(field: str, value: object) -> None:
    rows = copy.deepcopy(recorded("odoo_product_search_read.json"))
    rows[2][field] = value
    with pytest.raises(MalformedPayload) as refused:
        mapping.item_page(SYSTEM, rows, source=SYSTEM)
    assert refused.value.field == field and refused.value.payload == rows[2]


def test_an_answer_that_is_not_a_list_of_records_is_refused() -> None:
    with pytest.raises(MalformedPayload) as refused:
        mapping.records(SYSTEM, {"records": []}, "products")
    assert (refused.value.field, refused.value.value) == ("result", "dict")


def test_quants_sum_per_product_and_location_with_reserved_as_allocated() -> None:
    rows = mapping.quant_rows(
        SYSTEM,
        recorded("odoo_quant_search_read.json"),
        skus={12: "FURN_7800", 30: "FURN_8888"},
        locations={8: "DC01", 9: "DC01", 19: "STORE01"},
    )
    as_of = datetime(2026, 1, 1, tzinfo=UTC)
    positions = sum_positions(rows, source=SYSTEM, as_of=as_of, scope=[("FURN_8888", "DC01")])
    assert [(p.sku, p.location_code, p.on_hand, p.allocated) for p in positions] == [
        ("FURN_7800", "DC01", 15.0, 2.0),
        ("FURN_8888", "DC01", 0.0, 0.0),
        ("FURN_8888", "STORE01", 12.0, 4.0),
    ]


def test_a_quant_outside_the_mapped_locations_is_named() -> None:
    with pytest.raises(MalformedPayload) as refused:
        mapping.quant_rows(
            SYSTEM,
            recorded("odoo_quant_search_read.json"),
            skus={12: "FURN_7800", 30: "FURN_8888"},
            locations={8: "DC01"},
        )
    assert (refused.value.field, refused.value.value) == ("location_id", (9, "WH/Stock/Shelf 1"))


def test_purchase_order_values_use_one2many_create_commands() -> None:
    order = PurchaseOrderRequest(
        "PF-7", "V-WOOD", "DC01", date(2026, 12, 4), (("FURN_7800", 4.0), ("FURN_8888", 1.0))
    )
    values = mapping.purchase_order_values(
        order, partner_id=3, product_ids={"FURN_7800": 12, "FURN_8888": 30}, picking_type_id=1
    )
    assert values["origin"] == "PF-7" and values["partner_id"] == 3
    assert values["order_line"] == [
        [0, 0, {"product_id": 12, "product_qty": 4.0, "date_planned": "2026-12-04 00:00:00"}],
        [0, 0, {"product_id": 30, "product_qty": 1.0, "date_planned": "2026-12-04 00:00:00"}],
    ]


def test_order_states_map_to_acknowledgements() -> None:
    orders = recorded("odoo_purchase_order_search_read.json")
    lines = recorded("odoo_purchase_order_line_search_read.json")
    skus = {12: "FURN_7800", 30: "FURN_8888"}
    confirmed = mapping.acknowledgement(SYSTEM, orders[0], lines, skus)
    assert confirmed is not None and confirmed.status == "acknowledged"
    assert confirmed.confirmed == (("FURN_7800", 48.0), ("FURN_8888", 2.0))
    assert confirmed.acknowledged_at == datetime(2026, 11, 20, 14, 5, tzinfo=UTC)
    cancelled = mapping.acknowledgement(SYSTEM, orders[1], [], skus)
    assert cancelled is not None and (cancelled.number, cancelled.status) == ("PF-0002", "rejected")
    assert mapping.acknowledgement(SYSTEM, orders[2], [], skus) is None
    with pytest.raises(MalformedPayload) as refused:
        mapping.acknowledgement(SYSTEM, {**orders[0], "state": "locked"}, lines, skus)
    assert (refused.value.field, refused.value.value) == ("state", "locked")


def _response(status: int, body: object) -> httpx.Response:
    request = httpx.Request("POST", "https://odoo.example.com/json/2/product.product/search_read")
    return httpx.Response(status, json=body, request=request)


def test_json2_unauthorized_is_not_retried_and_shows_no_server_text() -> None:
    response = _response(401, recorded("odoo_json2_error_unauthorized.json"))
    error = errors.json2_error(SYSTEM, "product.product.search_read", response, "the-key")
    assert not error.retryable and "refused the credentials (HTTP 401)" in error.message
    assert "Traceback" not in error.message


@pytest.mark.parametrize(
    ("status", "body", "retryable", "unavailable"),
    [
        (500, "internal server error", True, False),
        (503, "maintenance", True, True),
        (429, "too many requests", True, False),
        (422, "got an unexpected keyword argument 'badparameter'", False, False),
        (
            404,
            {"name": "werkzeug.exceptions.NotFound", "message": "the model 'x' does not exist"},
            False,
            False,
        ),
        (403, {"name": "odoo.exceptions.AccessError", "message": "not allowed"}, False, False),
    ],
)
def test_json2_error_statuses(
    status: int, body: object, retryable: bool, unavailable: bool
) -> None:
    error = errors.json2_error(SYSTEM, "op", _response(status, body), None)
    assert error.retryable is retryable
    assert isinstance(error, ConnectorUnavailable) is unavailable
    assert f"HTTP {status}" in error.message


def test_jsonrpc_access_denied_is_not_retried_and_validation_names_the_reason() -> None:
    denied = recorded("odoo_jsonrpc_error_access_denied.json")["error"]
    error = errors.jsonrpc_error(SYSTEM, "purchase.order.create", denied, "k")
    assert not error.retryable and "AccessDenied" in error.message
    invalid = recorded("odoo_jsonrpc_error_validation.json")["error"]
    error = errors.jsonrpc_error(SYSTEM, "purchase.order.create", invalid, "k")
    assert not error.retryable and "The vendor is required." in error.message
    assert "Traceback" not in error.message


def test_jsonrpc_server_errors_and_conflicts_are_retried() -> None:
    for name in (
        "odoo.exceptions.ConcurrencyError",
        "psycopg2.OperationalError",
        "KeyboardInterrupt",
    ):
        error = errors.jsonrpc_error(SYSTEM, "op", {"code": 200, "data": {"name": name}}, None)
        assert error.retryable, name
    expired = errors.jsonrpc_error(SYSTEM, "op", {"code": 100, "message": "Session expired"}, None)
    assert not expired.retryable


def test_a_secret_in_an_error_message_is_masked() -> None:
    data = {"name": "odoo.exceptions.UserError", "message": "bad key s3cr3t-value"}
    error = errors.jsonrpc_error(SYSTEM, "op", {"code": 200, "data": data}, "s3cr3t-value")
    assert "s3cr3t-value" not in error.message and "***" in error.message


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"protocol": "xmlrpc"}, "config.protocol"),
        ({"protocol": "jsonrpc"}, "config.username"),
        ({"location_map": "WH/Stock"}, "config.location_map"),
        ({"location_map": "WH/Stock=DC01,WH/Stock=DC02"}, "config.location_map"),
        ({"page_size": 0}, "config.page_size"),
    ],
)
def test_settings_are_checked_when_the_connector_is_built(
    values: dict[str, object], field: str
) -> None:
    """Ranges are checked with the config (its manifest), the rest when the connector is built."""

    def build() -> OdooConnector:
        config = ConnectorConfig(
            OdooConnector.manifest,
            {
                "base_url": "https://odoo.example.com",
                "api_key": "env:PROMOFLOW_TEST_ODOO_KEY",
                "database": "prod",
                "location_map": "WH/Stock=DC01",
                **values,
            },
        )
        return OdooConnector(
            config, ConnectorContext(name="odoo-settings", guard=Guard("odoo-settings"))
        )

    with pytest.raises(InvalidInput) as refused:
        build()
    assert refused.value.field == field


def test_a_pasted_api_key_is_refused_without_echoing_it() -> None:
    with pytest.raises(InvalidInput) as refused:
        ConnectorConfig(
            OdooConnector.manifest,
            {"base_url": "https://o.example.com", "api_key": "abc123", "location_map": "A=B"},
        )
    assert "abc123" not in str(refused.value)

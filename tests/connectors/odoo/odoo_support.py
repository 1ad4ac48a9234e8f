"""Helpers for the Odoo tests: the seeded fake on 127.0.0.1, recorded payloads, connectors."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from odoo_fake import DATABASE, LOGIN, OdooFake

from promoflow.connectors.framework import ConnectorConfig, ConnectorContext
from promoflow.connectors.odoo.connector import OdooConnector
from promoflow.connectors.resilience import BreakerPolicy, Guard, RetryPolicy

FIXTURES = Path(__file__).parent / "fixtures"
SECRET_ENV = "PROMOFLOW_TEST_ODOO_API_KEY"
LOCATION_MAP = "WH/Stock=DC01,SHOP1/Stock=STORE01"


def recorded(name: str) -> Any:
    """A recorded answer from fixtures/ (as Odoo's search_read returns it)."""
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def seeded_fake(extra_products: int = 0) -> OdooFake:
    """A small Odoo database: furniture products, two warehouses' stock, two vendors."""
    fake = OdooFake()
    orm = fake.orm
    root = orm.add("product.category", name="All", complete_name="All")
    saleable = orm.add("product.category", name="Saleable", complete_name="All / Saleable")
    office = orm.add(
        "product.category",
        name="Office Furniture",
        complete_name="All / Saleable / Office Furniture",
    )

    def product(code: Any, name: str, price: float, cost: float, **extra: Any) -> int:
        template_write = extra.pop("template_write", "2025-09-01 08:00:00")
        template = orm.add("product.template", name=name, write_date=template_write)
        values = {
            "default_code": code,
            "name": name,
            "barcode": False,
            "list_price": price,
            "standard_price": cost,
            "categ_id": office,
            "product_tmpl_id": template,
            "write_date": "2025-09-01 08:00:00",
            **extra,
        }
        return orm.add("product.product", **values)

    desk = product(
        "FURN_7800",
        "Desk Combination",
        450.0,
        300.0,
        barcode="4006381333931",
        write_date="2025-11-05 10:00:00",
    )
    screen = product("FURN_6666", "Acoustic Bloc Screens", 295.0, 287.5, categ_id=saleable)
    product(
        "E-COM11",
        "Cabinet with Doors",
        140.0,
        120.5,
        active=False,
        write_date="2025-11-02 09:30:00",
    )
    lamp = product(
        "FURN_8888", "Office Lamp", 40.0, 35.0, categ_id=root, template_write="2025-11-10 16:45:00"
    )
    product(False, "Standard delivery", 0.0, 0.0)
    for n in range(extra_products):
        product(f"GEN-{n:04d}", f"Generated item {n}", 10.0, 5.0)

    warehouse = orm.add("stock.location", name="WH", complete_name="WH", location_id=False)
    stock = orm.add("stock.location", name="Stock", complete_name="WH/Stock", location_id=warehouse)
    shelf = orm.add(
        "stock.location", name="Shelf 1", complete_name="WH/Stock/Shelf 1", location_id=stock
    )
    shop = orm.add("stock.location", name="SHOP1", complete_name="SHOP1", location_id=False)
    shop_stock = orm.add(
        "stock.location", name="Stock", complete_name="SHOP1/Stock", location_id=shop
    )
    vendors = orm.add(
        "stock.location", name="Vendors", complete_name="Partners/Vendors", location_id=False
    )

    for product_id, location, quantity, reserved in [
        (desk, stock, 10.0, 2.0),
        (desk, shelf, 5.0, 0.0),
        (desk, shop_stock, 3.0, 0.0),
        (screen, stock, 7.5, 0.0),
        (screen, vendors, -20.0, 0.0),
        (lamp, shop_stock, 12.0, 4.0),
    ]:
        orm.add(
            "stock.quant",
            product_id=product_id,
            location_id=location,
            quantity=quantity,
            reserved_quantity=reserved,
        )
    orm.add("res.partner", name="Wood Corner", ref="V-WOOD")
    orm.add("res.partner", name="Gemini Furniture", ref="V-GEM")
    orm.add(
        "stock.picking.type", name="WH: Receipts", code="incoming", default_location_dest_id=stock
    )
    orm.add(
        "stock.picking.type",
        name="SHOP1: Receipts",
        code="incoming",
        default_location_dest_id=shop_stock,
    )
    orm.add(
        "stock.picking.type",
        name="WH: Delivery Orders",
        code="outgoing",
        default_location_dest_id=vendors,
    )
    return fake


def connector(
    base_url: str, name: str, *, protocol: str = "json2", page_size: int = 200
) -> OdooConnector:
    """A connector pointed at the fake; retries sleep no time, breakers are per test name."""
    values: dict[str, Any] = {
        "base_url": base_url,
        "protocol": protocol,
        "database": DATABASE,
        "api_key": f"env:{SECRET_ENV}",
        "location_map": LOCATION_MAP,
        "page_size": page_size,
    }
    if protocol == "jsonrpc":
        values["username"] = LOGIN
    config = ConnectorConfig(OdooConnector.manifest, values)
    guard = Guard(
        name,
        retry=RetryPolicy(attempts=4, base_seconds=0.0, max_seconds=0.0),
        breaker=BreakerPolicy(failure_threshold=50, reset_seconds=30.0),
        sleep=lambda _seconds: None,
    )
    return OdooConnector(config, ConnectorContext(name=name, guard=guard))

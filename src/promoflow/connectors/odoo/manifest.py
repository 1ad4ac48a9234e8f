"""What the Odoo connector is: capabilities, protocol and settings (`settings.FIELDS`)."""

from __future__ import annotations

from promoflow.connectors.framework import Capability, Manifest
from promoflow.connectors.odoo.settings import FIELDS

MANIFEST = Manifest(
    slug="odoo",
    name="Odoo",
    kind="erp",
    protocol="Odoo external API: JSON-2 (/json/2, bearer API key) or JSON-RPC (/jsonrpc)",
    capabilities=(Capability.ITEM_MASTER, Capability.INVENTORY, Capability.PURCHASE_ORDERS),
    config=FIELDS,
    description="Products (product.product by write_date), on hand and reserved "
    "(stock.quant) summed per product and mapped location, purchase orders created "
    "once per number as RFQs and acknowledged by their state.",
)

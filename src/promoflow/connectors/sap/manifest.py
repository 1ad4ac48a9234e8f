"""What the SAP S/4HANA connector is: OData V2 APIs, capabilities, settings."""

from __future__ import annotations

from promoflow.connectors.framework import Capability, Manifest
from promoflow.connectors.sap.settings import FIELDS

MANIFEST = Manifest(
    slug="sap-s4hana",
    name="SAP S/4HANA",
    kind="erp",
    protocol="OData V2 (SAP Gateway)",
    capabilities=(Capability.ITEM_MASTER, Capability.INVENTORY, Capability.PURCHASE_ORDERS),
    config=FIELDS,
    description="Item master, stock and purchase orders from SAP S/4HANA's OData V2 APIs",
)

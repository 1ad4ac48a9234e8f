"""What the Business Central connector is: OData V4 API v2.0, capabilities, settings."""

from __future__ import annotations

from promoflow.connectors.dynamics_bc.settings import FIELDS
from promoflow.connectors.framework import Capability, Manifest

MANIFEST = Manifest(
    slug="dynamics-bc",
    name="Microsoft Dynamics 365 Business Central",
    kind="erp",
    protocol="OData V4 (Business Central API v2.0), OAuth 2.0 client credentials",
    capabilities=(Capability.ITEM_MASTER, Capability.INVENTORY, Capability.PURCHASE_ORDERS),
    config=FIELDS,
    description="Item master, inventory positions summed from item ledger entries, "
    "purchase orders created with their lines in one request.",
)

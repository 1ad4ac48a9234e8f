"""What the Oracle Fusion connector is: SCM REST resources, capabilities, settings."""

from __future__ import annotations

from promoflow.connectors.framework import Capability, Manifest
from promoflow.connectors.oracle_fusion.settings import FIELDS

MANIFEST = Manifest(
    slug="oracle-fusion",
    name="Oracle Fusion Cloud SCM",
    kind="erp",
    protocol="Oracle REST (fscmRestApi 11.13.18.05), HTTP basic auth",
    capabilities=(Capability.ITEM_MASTER, Capability.INVENTORY, Capability.PURCHASE_ORDERS),
    config=FIELDS,
    description="Items (itemsV2), on-hand (inventoryOnhandBalances) summed per item and "
    "inventory organization, purchase orders created as drafts and submitted.",
)

"""What the sandbox connector is: the seeded retailer's simulated WMS and ERP."""

from __future__ import annotations

from promoflow.connectors.framework import Capability, Manifest
from promoflow.connectors.sandbox.settings import FIELDS

MANIFEST = Manifest(
    slug="sandbox",
    name="Sandbox estate",
    kind="sandbox",
    protocol="in-database simulation",
    capabilities=(Capability.INVENTORY, Capability.ITEM_MASTER),
    config=FIELDS,
    description="The seeded retailer's simulated systems; no credentials needed.",
)

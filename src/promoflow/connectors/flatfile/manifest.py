"""What the flat-file connector is: capabilities, file formats and settings."""

from __future__ import annotations

from promoflow.connectors.framework import Capability, Manifest

from .settings import FIELDS

MANIFEST = Manifest(
    slug="flatfile",
    name="Flat files (CSV / Parquet drop folder)",
    kind="files",
    protocol="CSV (RFC 4180) and Parquet files in inbox/, outbox/, archive/, rejected/",
    capabilities=(
        Capability.ITEM_MASTER,
        Capability.INVENTORY,
        Capability.SALES_FEED,
        Capability.PRICE_PUBLICATION,
    ),
    config=FIELDS,
    description="Items, inventory positions, sales and regular prices in; promo prices out",
)

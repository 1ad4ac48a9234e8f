"""What the commercetools connector is: price publication over the HTTP API."""

from __future__ import annotations

from promoflow.connectors.framework import Capability, Manifest

from .settings import FIELDS

MANIFEST = Manifest(
    slug="commercetools",
    name="commercetools",
    kind="commerce",
    protocol="commercetools HTTP API (official Python SDK), OAuth 2 client credentials",
    capabilities=(Capability.PRICE_PUBLICATION,),
    config=FIELDS,
    description="Promotion prices as channel-scoped, dated Prices: embedded in "
    "variants, or Standalone Prices where the product's priceMode is Standalone",
)

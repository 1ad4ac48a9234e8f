"""What the EDI connector is: documents exchanged, standards, settings (`settings.FIELDS`)."""

from __future__ import annotations

from promoflow.connectors.edi.settings import FIELDS
from promoflow.connectors.framework import Capability, Manifest

MANIFEST = Manifest(
    slug="edi",
    name="EDI with suppliers (X12 / EDIFACT)",
    kind="supplier",
    protocol="X12 004010 and EDIFACT D96A over a drop folder (no AS2)",
    capabilities=(Capability.PURCHASE_ORDERS, Capability.SUPPLIER_COLLABORATION),
    config=FIELDS,
    description=(
        "846/INVRPT stock and 832/PRICAT catalogues in, 850 purchase orders out and 855 "
        "acknowledgements in, 852/SLSRPT sell-through out"
    ),
)

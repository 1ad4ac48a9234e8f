"""Shared helpers for the EDI tests (a module with a unique name, imported by the tests)."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from promoflow.connectors.edi.documents import Malformed
from promoflow.connectors.edi.items import Crosswalk
from promoflow.connectors.edi.mapping import Mapping

HERE = Path(__file__).parent
OURS = HERE / "fixtures"
PUBLISHED = HERE.parent.parent / "fixtures" / "specs" / "edi"
CROSSWALK = OURS / "edi_crosswalk.csv"


def published(name: str) -> str:
    """A published sample file (latin-1 holds every byte they contain)."""
    return (PUBLISHED / name).read_text(encoding="latin-1")


def ours(name: str) -> str:
    return (OURS / name).read_text(encoding="latin-1")


def mapping_for(
    raw: str,
    crosswalk: Crosswalk | None = None,
    cost_codes: tuple[str, ...] = ("UCP", "AAA", "AAB"),
) -> Mapping:
    """The Mapping a connector for supplier ACME would use."""
    return Mapping(
        "ACME",
        "USD",
        frozenset(cost_codes),
        crosswalk if crosswalk is not None else Crosswalk.load(CROSSWALK),
        Malformed("edi-test", raw),
    )


def crosswalk_for_gtins(gtins: list[str]) -> Crosswalk:
    """A crosswalk naming each GTIN's SKU after the GTIN (for published samples)."""
    from promoflow.connectors.edi.items import CrosswalkEntry

    return Crosswalk([CrosswalkEntry(f"SKU-{g}", g, None) for g in gtins])


def money(value: str) -> Decimal:
    return Decimal(value)

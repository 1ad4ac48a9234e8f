"""The settings of one trading partner: identities, standard, folders, prices' codes.

`EdiSettings.read(config)` is the one typed reading; `check_partner` lists what is
wrong with the partner settings in words that name the setting and the value (the
connection test reports them all at once).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from promoflow.connectors.framework import ConfigField, ConnectorConfig

STANDARDS = ("x12", "edifact")
FOLDER_NAMES = ("inbox", "outbox", "archive", "rejected", "state")

FIELDS = (
    ConfigField("supplier_code", description="Our code for this supplier"),
    ConfigField("standard", default="x12", description="What we send: x12 or edifact"),
    ConfigField("inbox", "path", description="Folder the partner drops interchanges in"),
    ConfigField("outbox", "path", description="Folder the partner collects ours from"),
    ConfigField("archive", "path", description="Processed inbound files"),
    ConfigField("rejected", "path", description="Malformed inbound files, with a .reason.txt"),
    ConfigField("state", "path", description="Our control numbers and sent-key ledger"),
    ConfigField("our_id", description="Our interchange id (ISA06/08, UNB sender)"),
    ConfigField("our_qualifier", default="ZZ", description="Its qualifier (ISA05; UNB 0007)"),
    ConfigField("partner_id", description="The partner's interchange id"),
    ConfigField("partner_qualifier", default="ZZ", description="Its qualifier"),
    ConfigField("gs_our_code", required=False, description="GS02 (default: our_id)"),
    ConfigField("gs_partner_code", required=False, description="GS03 (default: partner_id)"),
    ConfigField("usage", default="P", description="P production or T test (ISA15, UNB11)"),
    ConfigField("currency", default="USD", description="When a catalogue names none"),
    ConfigField(
        "cost_price_codes",
        default="UCP,AAA,AAB",
        description="Price codes that carry our cost: X12 CTP02, EDIFACT PRI 5125",
    ),
    ConfigField(
        "item_crosswalk",
        "path",
        required=False,
        description="CSV sku,gtin,vendor_item: items the partner names by GTIN or its number",
    ),
)


@dataclass(frozen=True)
class EdiSettings:
    supplier_code: str
    standard: str
    folders: dict[str, Path]
    ours: tuple[str, str]  # (qualifier, id)
    partner: tuple[str, str]
    gs_our_code: str
    gs_partner_code: str
    usage: str
    currency: str
    cost_price_codes: tuple[str, ...]
    item_crosswalk: Path | None

    @classmethod
    def read(cls, config: ConnectorConfig) -> EdiSettings:
        ours = (str(config.get("our_qualifier")), str(config.get("our_id")))
        partner = (str(config.get("partner_qualifier")), str(config.get("partner_id")))
        crosswalk = config.get("item_crosswalk")
        return cls(
            supplier_code=str(config.get("supplier_code")),
            standard=str(config.get("standard")),
            folders={name: Path(str(config.get(name))) for name in FOLDER_NAMES},
            ours=ours,
            partner=partner,
            gs_our_code=str(config.get("gs_our_code") or ours[1]),
            gs_partner_code=str(config.get("gs_partner_code") or partner[1]),
            usage=str(config.get("usage")),
            currency=str(config.get("currency")),
            cost_price_codes=tuple(
                c.strip() for c in str(config.get("cost_price_codes")).split(",") if c.strip()
            ),
            item_crosswalk=Path(crosswalk) if crosswalk else None,
        )


ISA_ID_LENGTH = 15


def check_partner(config: ConnectorConfig) -> list[str]:
    """What is wrong with the partner settings, in words that name the setting and value."""
    problems: list[str] = []
    standard = config.get("standard")
    if standard not in ("x12", "edifact"):
        problems.append(f"config.standard={standard!r}: must be x12 or edifact")
    if config.get("usage") not in ("P", "T"):
        problems.append(f"config.usage={config.get('usage')!r}: must be P (production) or T (test)")
    for name in ("our_id", "partner_id"):
        value = str(config.get(name))
        if standard == "x12" and len(value) > ISA_ID_LENGTH:
            problems.append(f"config.{name}={value!r}: an ISA id has at most 15 characters")
        if any(c in value for c in "*~>+:'?^"):
            problems.append(f"config.{name}={value!r}: contains an EDI delimiter")
    for name in ("our_qualifier", "partner_qualifier"):
        value = str(config.get(name))
        if not value.isalnum() or len(value) > 4:
            problems.append(f"config.{name}={value!r}: a qualifier is 1-4 letters or digits")
    for name in ("gs_our_code", "gs_partner_code"):
        value = config.get(name)
        if value is not None and not 2 <= len(str(value)) <= 15:
            problems.append(f"config.{name}={value!r}: a GS application code has 2-15 characters")
    codes = [c for c in str(config.get("cost_price_codes")).split(",") if c.strip()]
    if not codes:
        problems.append(
            "config.cost_price_codes is empty: name the price codes that carry our cost"
        )
    return problems

"""What an EDI partner's support asks: standard and version, interchange ids, the folders.

The "system" is a pair of folders and our state beside them, so the counts that
locate a problem are local: files waiting or rejected, the last interchange
control number, and the sent-key ledger (what each idempotency key sent, per kind
of document). Nothing is read but directory listings and the counter.
"""

from __future__ import annotations

from pathlib import Path

from promoflow.connectors.framework import ConnectorConfig, SystemDetails

from .settings import EdiSettings

VERSIONS = {"x12": "ASC X12 004010", "edifact": "UN/EDIFACT D.96A (syntax UNOC:3)"}


def _files(folder: Path) -> int | str:
    """Files in a folder (dot-files are writes in progress, not counted)."""
    try:
        return sum(1 for p in folder.iterdir() if p.is_file() and not p.name.startswith("."))
    except OSError as error:
        return f"unreadable: {type(error).__name__}"


def _ledger(state: Path) -> dict[str, int | str]:
    """Keys recorded as sent, per kind of document (state/sent/<kind>/<key digest>.json)."""
    sent = state / "sent"
    try:
        kinds = sorted(p for p in sent.iterdir() if p.is_dir()) if sent.is_dir() else []
    except OSError as error:
        return {"error": f"unreadable: {type(error).__name__}"}
    return {kind.name: _files(kind) for kind in kinds}


def _control_number(state: Path) -> int | str | None:
    path = state / "control-number"
    try:
        text = path.read_text(encoding="ascii").strip() if path.exists() else ""
    except OSError as error:
        return f"unreadable: {type(error).__name__}"
    return int(text) if text.isdigit() else (text or None)


def system_details(config: ConnectorConfig) -> SystemDetails:
    read = EdiSettings.read(config)
    state = read.folders["state"]
    return SystemDetails(
        speaks=f"{VERSIONS.get(read.standard, read.standard)} over a drop folder (no AS2)",
        details={
            "standard": read.standard,
            "usage": read.usage,
            "supplier_code": read.supplier_code,
            "our_id": ":".join(read.ours),
            "partner_id": ":".join(read.partner),
            "gs_codes": [read.gs_our_code, read.gs_partner_code],
            "folders": {name: str(path) for name, path in read.folders.items()},
            "files": {name: _files(path) for name, path in read.folders.items() if name != "state"},
            "last_control_number": _control_number(state),
            "ledger": _ledger(state),
            "item_crosswalk": str(read.item_crosswalk) if read.item_crosswalk else None,
        },
    )

"""The publication journal: what a key published (or meant to), kept in a Custom Object.

Written `pending` with the plan before the first price is written, `applied` with
the receipt after the last; a revert's receipt goes to its own container.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from promoflow.connectors.ports import MalformedPayload, PublicationReceipt

from .mapping import EMBEDDED, STANDALONE, PlannedPrice

JOURNAL_CONTAINER = "promoflow-price-publications"
REVERT_CONTAINER = "promoflow-price-reverts"
_KEY_UNSAFE = re.compile(r"[^-_~.a-zA-Z0-9]+")


def journal_key(key: str) -> str:
    """A Custom Object key for our idempotency key: readable, within the allowed pattern."""
    digest = hashlib.sha256(key.encode()).hexdigest()[:16]
    readable = _KEY_UNSAFE.sub("-", key).strip("-")[:150]
    return f"{readable}-{digest}" if readable else digest


def _mode(value: Any) -> str:
    if value not in (EMBEDDED, STANDALONE):
        raise ValueError(value)
    return str(value)


@dataclass(frozen=True)
class Journal:
    """What a key published (or meant to): kept in a commercetools Custom Object."""

    key: str
    status: str  # pending | applied
    prices: tuple[PlannedPrice, ...]
    receipt: PublicationReceipt | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "status": self.status,
            "prices": [p.as_json() for p in self.prices],
            "receipt": receipt_json(self.receipt) if self.receipt else None,
        }


def receipt_json(receipt: PublicationReceipt) -> dict[str, Any]:
    return {"key": receipt.key, "accepted": receipt.accepted, "externalRef": receipt.external_ref}


def parse_receipt(system: str, value: Any, container: str) -> PublicationReceipt:
    """A stored receipt back, or MalformedPayload naming the field that is wrong."""
    try:
        return PublicationReceipt(
            str(value["key"]), system, int(value["accepted"]), str(value["externalRef"])
        )
    except (KeyError, TypeError, ValueError):
        raise MalformedPayload(
            system,
            f"a receipt in Custom Object container {container} cannot be read",
            payload=value,
            field="value",
            value=value,
        ) from None


def parse_journal(system: str, value: Any) -> Journal:
    """The journal document back, or MalformedPayload naming the field that is wrong."""
    field = "value"
    try:
        field = "value.key"
        key = str(value["key"])
        field = "value.status"
        status = str(value["status"])
        if status not in ("pending", "applied"):
            raise ValueError(status)
        prices = []
        for index, item in enumerate(value["prices"]):
            field = f"value.prices[{index}]"
            prices.append(
                PlannedPrice(
                    sku=str(item["sku"]),
                    channel_key=str(item["channelKey"]),
                    channel_id=str(item["channelId"]),
                    product_id=str(item["productId"]),
                    currency=str(item["currency"]),
                    cent_amount=int(item["centAmount"]),
                    valid_from=datetime.fromisoformat(item["validFrom"]),
                    valid_until=datetime.fromisoformat(item["validUntil"]),
                    price_key=str(item["priceKey"]),
                    # Journals written before price modes were read are all embedded.
                    price_mode=_mode(item.get("priceMode", EMBEDDED)),
                    covers=int(item.get("covers", 1)),
                )
            )
        field = "value.receipt"
        raw = value.get("receipt")
        receipt = None if raw is None else parse_receipt(system, raw, JOURNAL_CONTAINER)
    except (KeyError, TypeError, ValueError, AttributeError):
        raise MalformedPayload(
            system,
            f"the publication journal in Custom Object container {JOURNAL_CONTAINER} has a "
            f"bad {field}",
            payload=value,
            field=field,
            value=value.get(field.split(".")[-1]) if isinstance(value, dict) else value,
        ) from None
    return Journal(key, status, tuple(prices), receipt)

"""The hash chain: a record's canonical bytes and its hash. Pure functions, no database.

The canonical form is JSON with sorted keys, no insignificant whitespace and
UTF-8 text (RFC 8785's shape). Values are made plain before they are stored
(`plain`), so what is read back serialises to the same bytes, on SQLite and on
PostgreSQL alike.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Mapping
from datetime import UTC, date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any

GENESIS = "0" * 64
# Text PostgreSQL cannot store (NUL) or JSON cannot encode (lone surrogates).
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")

# The fields that are hashed, in the record's own terms; sequence binds the order.
HASHED = (
    "sequence",
    "id",
    "at",
    "actor_subject",
    "actor_name",
    "role",
    "banners",
    "channel",
    "action",
    "route",
    "object_type",
    "object_ref",
    "before",
    "after",
    "reason",
    "request_id",
    "outcome",
    "status",
    "prev_hash",
)


def text(value: str | None, limit: int | None = None) -> str | None:
    """Text as it can be stored and hashed alike everywhere: no NUL, no lone surrogate."""
    if value is None:
        return None
    cleaned = _UNSTORABLE.sub("\ufffd", value)
    return cleaned if limit is None else cleaned[:limit]


def plain(value: Any) -> Any:
    """A JSON value that reads back as it was written: Decimals and dates become text."""
    if value is None or isinstance(value, bool | int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, str):
        return text(value)
    if isinstance(value, Enum):
        return plain(value.value)
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime):
        return timestamp(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(text(str(key))): plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        items = [plain(item) for item in value]
        return sorted(items, key=str) if isinstance(value, set | frozenset) else items
    return text(str(value))


def timestamp(value: datetime) -> str:
    """UTC, microseconds, always the same shape."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def canonical(fields: Mapping[str, Any]) -> bytes:
    """The bytes that are hashed: sorted keys, compact separators, UTF-8."""
    return json.dumps(
        plain(fields), sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")


def record_hash(fields: Mapping[str, Any]) -> str:
    """SHA-256 over the canonical form of the hashed fields (prev_hash among them)."""
    return hashlib.sha256(canonical({name: fields[name] for name in HASHED})).hexdigest()
